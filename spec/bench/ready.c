/* ready.c -- start-to-ready time of a server: forks and execs the command,
 * reads the "listening on http://HOST:PORT" line it prints, then sends the
 * raw HTTP request in REQFILE until the answer is 200. Prints the elapsed
 * milliseconds from fork to that answer and the child's RSS in KiB, then
 * stops the child with SIGTERM.
 *
 *   ready REQFILE CMD [ARGS...]
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
        sscanf(buf, "HTTP/1.1 %d", &status);
    }
    close(fd);
    return status;
}

int
main(int argc, char **argv)
{
    char req[65536], line[512];
    int pipefd[2], port = 0, status;
    double start;
    size_t len;
    FILE *f, *out;
    pid_t pid;

    if (argc < 3 || (f = fopen(argv[1], "rb")) == NULL) {
        fprintf(stderr, "usage: ready REQFILE CMD [ARGS...]\n");
        return 2;
    }
    len = fread(req, 1, sizeof(req), f);
    fclose(f);
    if (pipe(pipefd) != 0)
        return 1;
    start = now_ms();
    if ((pid = fork()) == 0) {
        int null = open("/dev/null", O_WRONLY);

        dup2(pipefd[1], STDOUT_FILENO);
        if (null >= 0)
            dup2(null, STDERR_FILENO); /* "signal 15, stopping" */
        close(pipefd[0]);
        execvp(argv[2], argv + 2);
        _exit(127);
    }
    close(pipefd[1]);
    out = fdopen(pipefd[0], "r");
    while (port == 0 && fgets(line, sizeof(line), out) != NULL) {
        char *p = strstr(line, "listening on http://");

        if (p != NULL && (p = strrchr(p, ':')) != NULL)
            port = atoi(p + 1);
    }
    status = -1;
    while (port != 0 && status != 200 && now_ms() - start < 10000)
        status = request(port, req, len);
    printf("%.2f %ld\n", status == 200 ? now_ms() - start : -1.0, rss_kib(pid));
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    return status == 200 ? 0 : 1;
}
