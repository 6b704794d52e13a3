package kmsemu.sdk;

import static org.junit.jupiter.api.DynamicContainer.dynamicContainer;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.TestFactory;

/** spec/sdk/cases.json through the official Java SDKs: one test per case, one container per suite. */
class CasesTest {
    private static final Path ROOT = Path.of(System.getProperty("kmsemu.root")).toAbsolutePath().normalize();
    private static final Results RESULTS = new Results();

    @TestFactory
    Stream<DynamicContainer> cases() throws IOException {
        JsonNode spec = Json.MAPPER.readTree(ROOT.resolve("spec/sdk/cases.json").toFile());
        Path bin = ROOT.resolve(env("KMSEMU_BIN", "build/kmsemu"));
        return elements(spec.path("suites"))
                .map(suite -> suite(suite, new SuiteRun(suite, spec, ROOT, bin, RESULTS)));
    }

    @AfterAll
    static void writeResults() throws IOException {
        RESULTS.write(ROOT.resolve(env("KMSEMU_SDK_RESULTS", "build/spec/sdk-results")).resolve("java.json"));
    }

    private static DynamicContainer suite(JsonNode suite, SuiteRun run) {
        Stream<DynamicNode> cases = elements(suite.path("cases"))
                .map(kase -> dynamicTest(kase.path("name").asText(), () -> run.runCase(kase)));
        Stream<DynamicNode> stop = Stream.of(dynamicTest("kmsemu exits 0 on SIGTERM", run::stop));
        return dynamicContainer(suite.path("name").asText(), Stream.concat(cases, stop));
    }

    private static Stream<JsonNode> elements(JsonNode array) {
        return StreamSupport.stream(array.spliterator(), false);
    }

    private static String env(String name, String fallback) {
        String v = System.getenv(name);
        return v == null || v.isEmpty() ? fallback : v;
    }
}
