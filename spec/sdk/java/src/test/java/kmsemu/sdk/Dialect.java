package kmsemu.sdk;

import com.fasterxml.jackson.databind.JsonNode;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.Arrays;
import java.util.Optional;

/** One cloud's official SDK client, driven by a step's op and wire-named request. */
interface Dialect {
    /** What came back: the response serialised in wire names, or the SDK's service error. */
    record Outcome(JsonNode response, ServiceError error) {}

    /** The fields the SDK's exception exposes; status is null where the SDK has none. */
    record ServiceError(String type, String code, Integer status, String message) {
        @Override
        public String toString() {
            return type + " code=" + code + (status == null ? "" : " status=" + status) + " message=" + message;
        }
    }

    Outcome call(String profile, String op, JsonNode request) throws Exception;

    /** "sdk" when the typed client has a method for op, "core" when the SDK's generic path sends it. */
    String via(String op);

    /** The dialect's client against url, with what it needs of cases.json (spec). */
    static Dialect of(String name, JsonNode spec, String url) {
        JsonNode credentials = spec.path("credentials");
        return switch (name) {
            case "huawei" -> new Huawei(credentials.path("huawei"), spec.path("huawei_routes"), url);
            case "tencent" -> new Tencent(credentials.path("tencent"), url);
            default -> throw new IllegalArgumentException("unknown dialect " + name);
        };
    }

    /** The client's one-argument method called name, if its SDK release has one. */
    static Optional<Method> operation(Class<?> client, String name) {
        return Arrays.stream(client.getMethods())
                .filter(m -> m.getName().equals(name) && m.getParameterCount() == 1)
                .findFirst();
    }

    /** The exception the SDK method itself threw, out of reflection's wrapper. */
    static Exception thrown(InvocationTargetException e) {
        if (e.getCause() instanceof Exception cause) return cause;
        throw (Error) e.getCause();
    }

    static JsonNode profile(JsonNode profiles, String name) {
        JsonNode p = profiles.path(name);
        if (!p.isObject()) throw new IllegalArgumentException("no credential profile " + name);
        return p;
    }
}
