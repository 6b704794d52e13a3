package kmsemu.sdk;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Comparator;
import java.util.Iterator;
import java.util.stream.IntStream;

/** JSON trees as cases.json speaks of them: dot paths, numbers equal by value. */
final class Json {
    static final ObjectMapper MAPPER = new ObjectMapper();

    /** Orders only what equality needs: numbers by value, other leaves by Jackson's equals. */
    private static final Comparator<JsonNode> BY_VALUE = (a, b) -> a.isNumber() && b.isNumber()
            ? a.decimalValue().compareTo(b.decimalValue())
            : a.equals(b) ? 0 : 1;

    private Json() {}

    static JsonNode parse(String text) throws JsonProcessingException {
        return MAPPER.readTree(text);
    }

    static boolean same(JsonNode a, JsonNode b) {
        return a.equals(BY_VALUE, b);
    }

    /** The value at a dot path of names and array indexes; MissingNode when there is none. */
    static JsonNode at(JsonNode root, String path) {
        JsonNode node = root;
        if (path.isEmpty()) return node;
        for (String part : path.split("\\.", -1)) {
            node = node.isArray() && part.matches("\\d+") ? node.path(Integer.parseInt(part)) : node.path(part);
        }
        return node;
    }

    /** Fails when the typed model dropped a field of the request: it could not hold it. */
    static void requireHeld(JsonNode sent, JsonNode model) {
        String lost = firstLost(sent, model, "");
        if (lost != null) throw new IllegalArgumentException("the request model has no field for " + lost);
    }

    private static String firstLost(JsonNode sent, JsonNode model, String path) {
        if (!sent.isContainerNode()) return null;
        for (Iterator<String> keys = keys(sent); keys.hasNext(); ) {
            String key = keys.next();
            String here = path.isEmpty() ? key : path + "." + key;
            JsonNode value = at(sent, key);
            JsonNode kept = at(model, key);
            if (kept.isMissingNode() || (kept.isNull() && !value.isNull())) return here;
            String deeper = firstLost(value, kept, here);
            if (deeper != null) return deeper;
        }
        return null;
    }

    private static Iterator<String> keys(JsonNode container) {
        return container.isArray()
                ? IntStream.range(0, container.size()).mapToObj(Integer::toString).iterator()
                : container.fieldNames();
    }

    static String show(JsonNode node) {
        return node.isMissingNode() ? "nothing" : node.toString();
    }
}
