/* ready.c -- start-to-first-answer time of a server: forks and execs the
 * command, which is to listen on 127.0.0.1:PORT, then sends the raw HTTP
 * request in REQFILE on a fresh connection until the answer is 200. Prints
 * the elapsed milliseconds from fork to that answer and the child's RSS in
 * KiB, then stops the child with SIGTERM.
 *
 *   ready REQFILE PORT CMD [ARGS...]
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static long
rss_kib(pid_t pid)
{
    char path[64], line[256];
    long kib = -1;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    if ((f = fopen(path, "r")) == NULL)
        return -1;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "VmRSS: %ld", &kib) == 1)
            break;
    fclose(f);
    return kib;
}

/* One request on a fresh connection; returns the HTTP status or -1. */
static int
request(int port, const char *req, size_t len)
{
    struct sockaddr_in sa = {0};
    char buf[512];
    int fd, status = -1;
    ssize_t n;

    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
        write(fd, req, len) == (ssize_t)len &&
        (n = read(fd, buf, sizeof(buf) - 1)) > 0) {
        buf[n] = '\0';
        sscanf(buf, "HTTP/1.%*d %d", &status);
    }
    close(fd);
    return status;
}

int
main(int argc, char **argv)
{
    /* Between refused connections: short beside any server's start. */
    const struct timespec pause = {0, 100000};
    char req[65536];
    int port, status = -1;
    double start;
    size_t len;
    FILE *f;
    pid_t pid;

    if (argc < 4 || (port = atoi(argv[2])) <= 0 || (f = fopen(argv[1], "rb")) == NULL) {
        fprintf(stderr, "usage: ready REQFILE PORT CMD [ARGS...]\n");
        return 2;
    }
    len = fread(req, 1, sizeof(req), f);
    fclose(f);
    start = now_ms();
    if ((pid = fork()) < 0)
        return 1;
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);

        if (null >= 0) {
            dup2(null, STDOUT_FILENO);
            dup2(null, STDERR_FILENO);
        }
        execvp(argv[3], argv + 3);
        _exit(127);
    }
    while ((status = request(port, req, len)) != 200 &&
           now_ms() - start < 30000 && waitpid(pid, NULL, WNOHANG) == 0)
        nanosleep(&pause, NULL);
    printf("%.2f %ld\n", status == 200 ? now_ms() - start : -1.0, rss_kib(pid));
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    return status == 200 ? 0 : 1;
}
