package kmsemu.sdk;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** One kmsemu process on a free loopback port, stopped with SIGTERM. */
final class Kmsemu {
    private static final Pattern READY = Pattern.compile("kmsemu listening on (http://\\S+)");
    private static final long START_TIMEOUT_S = 15;
    private static final long STOP_TIMEOUT_S = 10;

    private final Process process;
    private final ByteArrayOutputStream stderr = new ByteArrayOutputStream();
    private final CompletableFuture<String> url = new CompletableFuture<>();
    private final Thread stderrReader;

    private Kmsemu(Process process) {
        this.process = process;
        stderrReader = daemon(() -> drain(process.getErrorStream()));
        daemon(this::watchStdout);
    }

    static Kmsemu start(Path root, Path bin, String scenario) throws IOException {
        Process p = new ProcessBuilder(bin.toString(), "--listen", "127.0.0.1:0", "--scenario", scenario)
                .directory(root.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .start();
        // A JVM that dies mid-suite must not leave its servers listening.
        Runtime.getRuntime().addShutdownHook(new Thread(p::destroyForcibly));
        Kmsemu server = new Kmsemu(p);
        server.awaitReady(bin);
        return server;
    }

    String url() {
        return url.join();
    }

    boolean alive() {
        return process.isAlive();
    }

    /** SIGTERM, then the exit status (128 + N after a death by signal N). */
    int stop() throws InterruptedException {
        // Not process.destroy(): it also closes our ends of the pipes, so what
        // kmsemu writes while stopping would be lost, or kill it with SIGPIPE.
        process.toHandle().destroy();
        if (!process.waitFor(STOP_TIMEOUT_S, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
            throw new IllegalStateException("kmsemu ignored SIGTERM for " + STOP_TIMEOUT_S + " s" + stderrText());
        }
        return process.exitValue();
    }

    String describeExit() throws InterruptedException {
        stderrReader.join(TimeUnit.SECONDS.toMillis(1));
        int status = process.exitValue();
        String how = status > 128 ? "killed by signal " + (status - 128) : "exit status " + status;
        return "kmsemu " + how + stderrText();
    }

    String stderrText() {
        synchronized (stderr) {
            return stderr.size() == 0 ? "" : "; its stderr:\n" + stderr.toString(StandardCharsets.UTF_8);
        }
    }

    private void awaitReady(Path bin) throws IOException {
        try {
            url.get(START_TIMEOUT_S, TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException | InterruptedException e) {
            process.destroyForcibly();
            throw new IOException(bin + " printed no ready line (" + e.getMessage() + ")" + stderrText());
        }
    }

    private void watchStdout() {
        try (BufferedReader out = new BufferedReader(
                new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = out.readLine()) != null; ) {
                Matcher m = READY.matcher(line);
                if (m.find()) url.complete(m.group(1));
            }
        } catch (IOException closed) {
            // Closed by the shutdown hook's destroyForcibly: nothing more to read.
        } finally {
            url.completeExceptionally(new IOException("stdout closed"));
        }
    }

    private void drain(InputStream in) {
        byte[] buf = new byte[8192];
        try (in) {
            for (int n; (n = in.read(buf)) > 0; ) {
                synchronized (stderr) {
                    stderr.write(buf, 0, n);
                }
            }
        } catch (IOException closed) {
            // As in watchStdout.
        }
    }

    private static Thread daemon(Runnable body) {
        Thread t = new Thread(body, "kmsemu-io");
        t.setDaemon(true);
        t.start();
        return t;
    }
}
