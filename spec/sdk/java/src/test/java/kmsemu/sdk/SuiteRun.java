package kmsemu.sdk;

import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;

/** A suite of cases.json against its own kmsemu, started on the suite's first case. */
final class SuiteRun {
    private final String name;
    private final String dialectName;
    private final String scenario;
    private final JsonNode spec;
    private final Path root;
    private final Path bin;
    private final Results results;
    private Kmsemu server;
    private Dialect dialect;
    private String startFailure;

    SuiteRun(JsonNode suite, JsonNode spec, Path root, Path bin, Results results) {
        this.name = suite.path("name").asText();
        this.dialectName = suite.path("dialect").asText();
        this.scenario = suite.path("scenario").asText();
        this.spec = spec;
        this.root = root;
        this.bin = bin;
        this.results = results;
    }

    void runCase(JsonNode kase) throws InterruptedException {
        String caseName = kase.path("name").asText();
        JsonNode steps = kase.path("steps");
        String where = "suite " + name + ", case \"" + caseName + "\"";
        if (!started()) {
            for (JsonNode step : steps) results.add(name, caseName, dialectName, op(step), null, startFailure);
            fail(where + ": " + startFailure);
        }
        Map<String, JsonNode> vars = new HashMap<>();
        for (int i = 0; i < steps.size(); i++) {
            String op = op(steps.get(i));
            String via = dialect.via(op);
            String problem = Step.run(dialect, steps.get(i), vars);
            if (problem != null && !server.alive()) problem += "; " + server.describeExit();
            results.add(name, caseName, dialectName, op, via, problem);
            if (problem != null) fail(where + ", steps[" + i + "] (" + op + " via " + via + "): " + problem);
        }
    }

    private static String op(JsonNode step) {
        return step.path("op").asText();
    }

    /** SIGTERM must end the server with exit status 0. */
    void stop() throws InterruptedException {
        Assumptions.assumeTrue(server != null, "kmsemu did not start");
        if (server.stop() != 0) fail("suite " + name + ": " + server.describeExit());
    }

    private boolean started() {
        if (server == null && startFailure == null) {
            try {
                server = Kmsemu.start(root, bin, scenario);
                dialect = Dialect.of(dialectName, spec, server.url());
            } catch (Exception e) {
                startFailure = "kmsemu did not start: " + e.getMessage();
            }
        }
        return server != null;
    }
}
