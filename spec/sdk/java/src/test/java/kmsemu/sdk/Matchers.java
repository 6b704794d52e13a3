package kmsemu.sdk;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.StreamSupport;

/** The matchers of an "expect" entry (CASES.md, Matchers). */
final class Matchers {
    private static final Set<String> NAMES = Set.of("match", "present", "len", "min", "contains", "type");

    private Matchers() {}

    /** Whether actual (MissingNode when absent) satisfies expected. */
    static boolean holds(JsonNode expected, JsonNode actual) {
        if (!isMatcher(expected)) return Json.same(expected, actual);
        String name = expected.fieldNames().next();
        JsonNode arg = expected.get(name);
        return switch (name) {
            case "match" -> actual.isTextual() && Pattern.compile(arg.asText()).matcher(actual.asText()).find();
            case "present" -> arg.asBoolean() == !(actual.isMissingNode() || actual.isNull());
            case "len" -> length(actual) == arg.asLong();
            case "min" -> actual.isNumber() && actual.decimalValue().compareTo(arg.decimalValue()) >= 0;
            case "contains" -> actual.isArray()
                    && StreamSupport.stream(actual.spliterator(), false).anyMatch(e -> Json.same(arg, e));
            case "type" -> type(actual).equals(arg.asText())
                    || arg.asText().equals("number") && actual.isNumber();
            default -> throw new AssertionError(name);
        };
    }

    private static boolean isMatcher(JsonNode expected) {
        return expected.isObject() && expected.size() == 1 && NAMES.contains(expected.fieldNames().next());
    }

    private static long length(JsonNode node) {
        if (node.isArray()) return node.size();
        if (node.isTextual()) return node.asText().codePointCount(0, node.asText().length());
        return -1;
    }

    private static String type(JsonNode node) {
        return switch (node.getNodeType()) {
            case STRING -> "string";
            case NUMBER -> node.isIntegralNumber() ? "integer" : "number";
            case BOOLEAN -> "boolean";
            case ARRAY -> "array";
            case OBJECT -> "object";
            default -> node.getNodeType().toString().toLowerCase();
        };
    }
}
