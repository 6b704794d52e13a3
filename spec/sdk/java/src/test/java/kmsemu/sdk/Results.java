package kmsemu.sdk;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** $KMSEMU_SDK_RESULTS/java.json: one entry per step that ran (CASES.md, What a runner reports). */
final class Results {
    private final ObjectNode root = Json.MAPPER.createObjectNode();
    private final ArrayNode steps;

    Results() {
        root.put("language", "java");
        root.putObject("sdks")
                .put("huawei", System.getProperty("kmsemu.sdk.huawei"))
                .put("tencent", System.getProperty("kmsemu.sdk.tencent"));
        steps = root.putArray("steps");
    }

    /** via is the Dialect's "sdk" or "core", null for a step that reached no client. */
    synchronized void add(String suite, String kase, String dialect, String op, String via, String error) {
        ObjectNode step = steps.addObject()
                .put("suite", suite).put("case", kase).put("dialect", dialect).put("op", op);
        if (via != null) step.put("via", via);
        step.put("ok", error == null).put("error", error);
    }

    synchronized void write(Path file) throws IOException {
        Files.createDirectories(file.getParent());
        Json.MAPPER.writerWithDefaultPrettyPrinter().writeValue(file.toFile(), root);
    }
}
