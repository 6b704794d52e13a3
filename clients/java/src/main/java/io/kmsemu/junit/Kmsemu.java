package io.kmsemu.junit;

import com.tencentcloudapi.common.Credential;
import com.tencentcloudapi.common.profile.ClientProfile;
import com.tencentcloudapi.common.profile.HttpProfile;
import com.tencentcloudapi.kms.v20190118.KmsClient;
import java.io.File;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.CodeSource;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One kmsemu, started on a free loopback port with a scenario, stopped
 * with SIGTERM. {@link KmsemuExtension} hands it to tests; {@link #start}
 * runs one directly (try-with-resources stops it).
 */
public final class Kmsemu implements AutoCloseable {
    private static final long START_MILLIS = 15_000;
    private static final long STOP_SECONDS = 10;

    // The start-up banner: the ready line, one line per configured dialect
    // with its credentials, then the key count, written at once.
    private static final Pattern READY = Pattern.compile("^kmsemu listening on (https?://(\\S+))$", Pattern.MULTILINE);
    private static final Pattern HUAWEI =
            Pattern.compile("^  huawei +\\S+/v1\\.0/(\\S+)/kms/\\.\\.\\.  AK (\\S+)  SK (\\S+)$", Pattern.MULTILINE);
    private static final Pattern TENCENT =
            Pattern.compile("^  tencent +\\S+/  region (\\S+)  SecretId (\\S+)  SecretKey (\\S+)$", Pattern.MULTILINE);
    private static final Pattern BANNER_END = Pattern.compile("^  \\d+ keys from ", Pattern.MULTILINE);

    private final List<String> argv;
    private final Path stdout;
    private final Path stderr;
    private final Process process;
    private String endpoint;
    private String host;
    private Credentials credentials;
    private Admin admin;
    private boolean stopped;

    private Kmsemu(List<String> argv) throws IOException {
        this.argv = argv;
        // Files rather than pipes: nothing has to drain them while the test runs.
        stdout = Files.createTempFile("kmsemu-", ".out");
        stderr = Files.createTempFile("kmsemu-", ".err");
        try {
            process = new ProcessBuilder(argv).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectOutput(stdout.toFile()).redirectError(stderr.toFile()).start();
        } catch (IOException e) {
            Files.deleteIfExists(stdout);
            Files.deleteIfExists(stderr);
            throw e;
        }
    }

    /**
     * Starts kmsemu with the scenario file ({@code null}: the binary's
     * default, scenarios/default.lua) and extra command-line args, and
     * waits until it listens. The binary is {@link #binary()}'s.
     */
    public static Kmsemu start(String scenario, List<String> args) {
        List<String> argv = new ArrayList<>(List.of(binary().toString(), "--listen", "127.0.0.1:0"));
        if (scenario != null) {
            argv.addAll(List.of("--scenario", scenario));
        }
        argv.addAll(args);
        Kmsemu k;
        try {
            k = new Kmsemu(argv);
        } catch (IOException e) {
            throw new KmsemuException(argv.get(0) + " could not be run: " + e.getMessage(), e);
        }
        k.awaitBanner();
        return k;
    }

    public static Kmsemu start(String scenario, String... args) {
        return start(scenario, List.of(args));
    }

    /** "http://127.0.0.1:PORT". */
    public String endpoint() {
        return endpoint;
    }

    /** "127.0.0.1:PORT": Tencent SDKs take the endpoint without its scheme. */
    public String host() {
        return host;
    }

    public Credentials credentials() {
        return credentials;
    }

    public Admin admin() {
        return admin;
    }

    /**
     * The Tencent SDK's KMS client (tencentcloud-sdk-java, API 2019-01-18)
     * for this kmsemu: its host over http, the scenario's Tencent
     * credentials and region. A {@link KmsemuException} if the scenario
     * gives no Tencent credentials.
     */
    public KmsClient tencentClient() {
        Credentials.Tencent tc = credentials.tencent();
        if (tc == null) {
            throw new KmsemuException("the scenario gives no Tencent credentials");
        }
        HttpProfile http = new HttpProfile();
        http.setEndpoint(host);
        http.setProtocol("http://");
        return new KmsClient(new Credential(tc.secretId(), tc.secretKey()), tc.region(),
                new ClientProfile(ClientProfile.SIGN_TC3_256, http));
    }

    private void awaitBanner() {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(START_MILLIS);
        while (true) {
            String out = read(stdout);
            if (READY.matcher(out).find() && BANNER_END.matcher(out).find()) {
                parse(out);
                return;
            }
            if (!process.isAlive()) {
                throw new KmsemuException("kmsemu ended before it was ready: " + finish());
            }
            if (System.nanoTime() > deadline) {
                process.destroyForcibly();
                waitQuietly();
                throw new KmsemuException("kmsemu printed no start-up banner within " + START_MILLIS
                        + " ms; stdout:\n" + out + "\n" + finish());
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
                throw new KmsemuException("interrupted while kmsemu started", e);
            }
        }
    }

    private void parse(String banner) {
        Matcher ready = READY.matcher(banner);
        ready.find();
        endpoint = ready.group(1);
        host = ready.group(2);
        Matcher hw = HUAWEI.matcher(banner);
        Matcher tc = TENCENT.matcher(banner);
        credentials = new Credentials(
                hw.find() ? new Credentials.Huawei(hw.group(2), hw.group(3),
                        hw.group(1).equals("{project_id}") ? null : hw.group(1)) : null,
                tc.find() ? new Credentials.Tencent(tc.group(2), tc.group(3), tc.group(1)) : null);
        admin = new Admin(endpoint);
    }

    /** How the exited process ended, with its stderr; removes the files. */
    private String finish() {
        String how = String.join(" ", argv) + " exited with status " + process.exitValue() + "; stderr:\n" + read(stderr);
        try {
            Files.deleteIfExists(stdout);
            Files.deleteIfExists(stderr);
        } catch (IOException e) {
            how += "\n(" + e + ")";
        }
        return how;
    }

    private void waitQuietly() {
        try {
            process.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(" + e + ")";
        }
    }

    /**
     * SIGTERM, then a {@link KmsemuException} with kmsemu's stderr unless
     * it exits with status 0. A second call does nothing.
     */
    public void stop() {
        if (stopped) {
            return;
        }
        stopped = true;
        process.destroy(); // SIGTERM
        boolean exited;
        try {
            exited = process.waitFor(STOP_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            exited = false;
        }
        if (!exited) {
            process.destroyForcibly();
            waitQuietly();
            throw new KmsemuException("kmsemu did not stop within " + STOP_SECONDS + " s of SIGTERM: " + finish());
        }
        if (process.exitValue() != 0) {
            throw new KmsemuException("kmsemu did not stop cleanly: " + finish());
        }
        finish();
    }

    @Override
    public void close() {
        stop();
    }

    /**
     * The kmsemu binary: the system property kmsemu.bin, else $KMSEMU_BIN
     * (relative to the working directory), else kmsemu on PATH, else
     * build/kmsemu of the kmsemu checkout holding the working directory or
     * these classes.
     */
    public static Path binary() {
        for (String given : new String[] {System.getProperty("kmsemu.bin"), System.getenv("KMSEMU_BIN")}) {
            if (given != null && !given.isEmpty()) {
                return Path.of(given).toAbsolutePath();
            }
        }
        String path = System.getenv("PATH");
        for (String dir : path == null ? new String[0] : path.split(File.pathSeparator)) {
            Path bin = Path.of(dir.isEmpty() ? "." : dir, "kmsemu");
            if (Files.isRegularFile(bin) && Files.isExecutable(bin)) {
                return bin.toAbsolutePath();
            }
        }
        List<Path> starts = new ArrayList<>(List.of(Path.of("").toAbsolutePath()));
        CodeSource source = Kmsemu.class.getProtectionDomain().getCodeSource();
        if (source != null) {
            try {
                starts.add(Path.of(source.getLocation().toURI()));
            } catch (URISyntaxException | IllegalArgumentException e) {
                // Not a file: the working directory alone is searched.
            }
        }
        for (Path start : starts) {
            for (Path dir = start; dir != null; dir = dir.getParent()) {
                Path bin = dir.resolve("build/kmsemu");
                if (Files.isRegularFile(dir.resolve("lua/kmsemu/init.lua")) && Files.isExecutable(bin)) {
                    return bin;
                }
            }
        }
        throw new KmsemuException("no kmsemu binary: set kmsemu.bin or KMSEMU_BIN, put kmsemu on PATH, "
                + "or run inside a kmsemu checkout after make");
    }
}
