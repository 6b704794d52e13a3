package io.kmsemu.junit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * A thin client of kmsemu's admin API (/_kmsemu/, README "Admin API"):
 * one method per operation, each returning the parsed JSON answer. A
 * refusal throws {@link AdminException}.
 */
public final class Admin {
    private static final ObjectMapper JSON = new ObjectMapper();
    // A proxy from the environment must not see loopback calls.
    private static final HttpClient HTTP = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1).proxy(HttpClient.Builder.NO_PROXY).build();

    private final String base;

    public Admin(String endpoint) {
        this.base = endpoint.replaceAll("/+$", "") + "/_kmsemu/";
    }

    /** The admin API answered a status of 300 or more. */
    public static final class AdminException extends RuntimeException {
        private static final long serialVersionUID = 1L;
        private final int status;
        private final transient JsonNode body;

        AdminException(String method, String path, int status, JsonNode body) {
            super(method + " " + path + ": " + status + " " + body);
            this.status = status;
            this.body = body;
        }

        public int status() {
            return status;
        }

        public JsonNode body() {
            return body;
        }
    }

    /** One call; body: null, a String sent as it is, or a value sent as JSON. */
    public JsonNode request(String method, String path, Object body) {
        HttpResponse<String> res = send(method, path, body);
        JsonNode answer;
        try {
            answer = JSON.readTree(res.body());
        } catch (IOException e) {
            answer = JSON.getNodeFactory().textNode(res.body());
        }
        if (res.statusCode() >= 300) {
            throw new AdminException(method, path, res.statusCode(), answer);
        }
        return answer;
    }

    private HttpResponse<String> send(String method, String path, Object body) {
        try {
            String text = body == null ? null : body instanceof String s ? s : JSON.writeValueAsString(body);
            HttpRequest req = HttpRequest.newBuilder(URI.create(base + path))
                    .method(method, text == null ? HttpRequest.BodyPublishers.noBody()
                            : HttpRequest.BodyPublishers.ofString(text))
                    .build();
            return HTTP.send(req, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(method + " " + path, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted: " + method + " " + path, e);
        }
    }

    private static String query(Map<String, ?> filter) {
        if (filter.isEmpty()) {
            return "";
        }
        return filter.entrySet().stream()
                .map(e -> URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8) + "="
                        + URLEncoder.encode(String.valueOf(e.getValue()), StandardCharsets.UTF_8))
                .collect(Collectors.joining("&", "?", ""));
    }

    /** {status, scenario}. */
    public JsonNode health() {
        return request("GET", "health", null);
    }

    /** Back to the scenario's initial state; the journal is cleared. */
    public JsonNode reset() {
        return request("POST", "reset", null);
    }

    /** {path, source}. */
    public JsonNode scenario() {
        return request("GET", "scenario", null);
    }

    /** Replaces the scenario with this Lua text (400 if it does not load; the old one stays). */
    public JsonNode loadScenario(String source) {
        return request("PUT", "scenario", source);
    }

    /** {faults: [...]}, each with its id. */
    public JsonNode faults() {
        return request("GET", "faults", null);
    }

    /** A fault as fault{} declares one: addFault(Map.of("action", "Encrypt", "error", "...")) answers {id}. */
    public JsonNode addFault(Map<String, ?> fault) {
        return request("POST", "faults", fault);
    }

    public JsonNode removeFault(String id) {
        return request("DELETE", "faults/" + URLEncoder.encode(id, StandardCharsets.UTF_8), null);
    }

    /** Switches a fault off (it sees no calls, as if removed) or back on; answers {id, on}. */
    public JsonNode switchFault(String id, boolean on) {
        return request("POST", "faults/" + URLEncoder.encode(id, StandardCharsets.UTF_8) + (on ? "/on" : "/off"), null);
    }

    public JsonNode clearFaults() {
        return request("DELETE", "faults", null);
    }

    /**
     * {entries, count} for the filters (dialect, action, key_id, caller,
     * method, path, status, error, fault, connection, since) and limit.
     */
    public JsonNode journal(Map<String, ?> filter) {
        return request("GET", "journal" + query(filter), null);
    }

    /** {count} for the filters. */
    public JsonNode journalCount(Map<String, ?> filter) {
        return request("GET", "journal/count" + query(filter), null);
    }

    public JsonNode clearJournal() {
        return request("DELETE", "journal", null);
    }

    /** {now, iso, frozen, offset}. */
    public JsonNode clock() {
        return request("GET", "clock", null);
    }

    /** Sets the emulated clock to an instant ("2026-01-01T00:00:00Z") or unix seconds. */
    public JsonNode setClock(Object at) {
        return request("POST", "clock", Map.of("set", at));
    }

    public JsonNode advanceClock(long seconds) {
        return request("POST", "clock", Map.of("advance", seconds));
    }

    /** Stops the emulated clock, at {@code at} unless null, until it is set or advanced. */
    public JsonNode freezeClock(Object at) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("frozen", true);
        if (at != null) {
            body.put("set", at);
        }
        return request("POST", "clock", body);
    }

    /** {keys: [{id, dialect, owner, spec, state}]}. */
    public JsonNode keys() {
        return request("GET", "keys", null);
    }

    /** Makes a key as cmk{} does; answers it. */
    public JsonNode createKey(Map<String, ?> cmk) {
        return request("POST", "keys", cmk);
    }

    /** owner: the key's Huawei project or Tencent region. */
    public JsonNode setKeyState(String dialect, String owner, String id, String state) {
        return request("POST", "keys/state", Map.of("dialect", dialect, "owner", owner, "id", id, "state", state));
    }

    /** The Prometheus text. */
    public String metrics() {
        HttpResponse<String> res = send("GET", "metrics", null);
        if (res.statusCode() != 200) {
            throw new AdminException("GET", "metrics", res.statusCode(), JSON.getNodeFactory().textNode(res.body()));
        }
        return res.body();
    }
}
