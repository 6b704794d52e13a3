package kmsemu.sdk;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Iterator;
import java.util.Map;

/** One step of a case: build the request, call the SDK, check what came back, save variables. */
final class Step {
    private Step() {}

    /** Runs the step; null when it passed, else what was expected and what came back. */
    static String run(Dialect dialect, JsonNode step, Map<String, JsonNode> vars) {
        try {
            JsonNode request = step.has("request")
                    ? Template.expand(step.get("request"), vars) : Json.MAPPER.createObjectNode();
            Dialect.Outcome out = dialect.call(step.path("as").asText("default"), step.path("op").asText(), request);
            String problem = step.has("error")
                    ? checkError(Template.expand(step.get("error"), vars), out)
                    : checkExpect(Template.expand(step.path("expect"), vars), out);
            return problem != null ? problem : save(step.path("save"), out.response(), vars);
        } catch (Exception e) {
            return "threw " + e.getClass().getName() + ": " + e.getMessage();
        }
    }

    private static String checkError(JsonNode expected, Dialect.Outcome out) {
        if (out.error() == null) return "expected error " + expected + ", got success: " + out.response();
        Dialect.ServiceError got = out.error();
        boolean same = expected.path("code").asText().equals(got.code())
                && (!expected.has("status") || got.status() != null && expected.get("status").asInt() == got.status())
                && (!expected.has("message") || expected.get("message").asText().equals(got.message()));
        return same ? null : "expected error " + expected + ", got " + got;
    }

    private static String checkExpect(JsonNode expect, Dialect.Outcome out) {
        if (out.error() != null) return "expected success, got " + out.error();
        for (Iterator<Map.Entry<String, JsonNode>> it = expect.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            JsonNode actual = Json.at(out.response(), e.getKey());
            if (!Matchers.holds(e.getValue(), actual)) {
                return "at \"" + e.getKey() + "\" expected " + e.getValue() + ", got " + Json.show(actual)
                        + "; response: " + out.response();
            }
        }
        return null;
    }

    private static String save(JsonNode save, JsonNode response, Map<String, JsonNode> vars) {
        for (Iterator<Map.Entry<String, JsonNode>> it = save.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            JsonNode value = Json.at(response, e.getValue().asText());
            if (value.isMissingNode() || value.isNull()) {
                return "nothing at \"" + e.getValue().asText() + "\" to save as " + e.getKey()
                        + "; response: " + response;
            }
            vars.put(e.getKey(), value);
        }
        return null;
    }
}
