package kmsemu.sdk;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.huaweicloud.sdk.core.ClientBuilder;
import com.huaweicloud.sdk.core.HcClient;
import com.huaweicloud.sdk.core.auth.BasicCredentials;
import com.huaweicloud.sdk.core.exception.ServiceResponseException;
import com.huaweicloud.sdk.core.http.FieldExistence;
import com.huaweicloud.sdk.core.http.HttpMethod;
import com.huaweicloud.sdk.core.http.HttpRequestDef;
import com.huaweicloud.sdk.core.http.LocationType;
import com.huaweicloud.sdk.core.utils.JsonUtils;
import com.huaweicloud.sdk.kms.v2.KmsClient;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * huaweicloud-sdk-kms: KmsClient.lowerCamel(op)(XxxRequest), models read and written by the SDK's own mapper.
 * An op KmsClient lacks goes through the same HcClient with a request definition built from huawei_routes.
 */
final class Huawei implements Dialect {
    private static final ObjectMapper MAPPER = JsonUtils.getDefaultMapper();

    private record Clients(KmsClient typed, HcClient core) {}

    private final JsonNode profiles;
    private final JsonNode routes;
    private final String url;
    private final Map<String, Clients> clients = new HashMap<>();

    Huawei(JsonNode profiles, JsonNode routes, String url) {
        this.profiles = profiles;
        this.routes = routes;
        this.url = url;
    }

    @Override
    public String via(String op) {
        return method(op).isPresent() ? "sdk" : "core";
    }

    @Override
    public Outcome call(String profile, String op, JsonNode request) throws Exception {
        Clients c = clients.computeIfAbsent(profile, this::clients);
        Optional<Method> method = method(op);
        try {
            JsonNode response = method.isPresent() ? typed(c.typed(), method.get(), request) : core(c.core(), op, request);
            return new Outcome(response, null);
        } catch (ServiceResponseException s) {
            return new Outcome(null, new ServiceError(s.getClass().getSimpleName(),
                    s.getErrorCode(), s.getHttpStatusCode(), s.getErrorMsg()));
        }
    }

    private static Optional<Method> method(String op) {
        return Dialect.operation(KmsClient.class, Character.toLowerCase(op.charAt(0)) + op.substring(1));
    }

    private static JsonNode typed(KmsClient client, Method method, JsonNode request) throws Exception {
        Object model = MAPPER.treeToValue(request, method.getParameterTypes()[0]);
        Json.requireHeld(request, MAPPER.valueToTree(model));
        try {
            return MAPPER.valueToTree(method.invoke(client, model));
        } catch (InvocationTargetException e) {
            throw Dialect.thrown(e);
        }
    }

    /** The JSON answer of the core path, where the SDK's Field writes it. */
    public static final class CoreResponse {
        private JsonNode body;
    }

    private JsonNode core(HcClient client, String op, JsonNode request) {
        JsonNode body = client.syncInvokeHttp(request, definition(op, request)).body;
        if (body == null) return MAPPER.createObjectNode();
        // An array body is seen as the typed models hold it (CASES.md, Paths).
        return body.isArray() ? MAPPER.createObjectNode().set("body", body) : body;
    }

    /** What KmsMeta would declare for op: its route, and a field for each of the request's fields. */
    private HttpRequestDef<JsonNode, CoreResponse> definition(String op, JsonNode request) {
        JsonNode route = routes.path(op);
        if (!route.isArray()) throw new IllegalArgumentException("no huawei_routes entry for " + op);
        String path = route.get(1).asText();
        HttpRequestDef.Builder<JsonNode, CoreResponse> def = HttpRequestDef
                .builder(HttpMethod.valueOf(route.get(0).asText()), JsonNode.class, CoreResponse.class)
                .withName(op).withUri(path).withContentType("application/json;charset=UTF-8");
        request.fieldNames().forEachRemaining(name -> def.withRequestField(name, location(name, path),
                FieldExistence.NULL_IGNORE, String.class,
                f -> f.withReader(r -> name.equals("body") ? r.get(name).toString() : r.get(name).asText())));
        def.withResponseField("body", LocationType.Body, FieldExistence.NULL_IGNORE, JsonNode.class,
                f -> f.withMarshaller(a -> a.body, (a, body) -> a.body = body));
        return def.build();
    }

    /** "body" is the JSON body; a field the route names is a path parameter, any other a query parameter. */
    private static LocationType location(String name, String path) {
        if (name.equals("body")) return LocationType.Body;
        return path.contains("{" + name + "}") ? LocationType.Path : LocationType.Query;
    }

    /** KmsClient.newBuilder() is this builder with KmsClient::new; holding the HcClient lets the core path share it. */
    private Clients clients(String profile) {
        JsonNode p = Dialect.profile(profiles, profile);
        BasicCredentials credentials = new BasicCredentials()
                .withAk(p.path("ak").asText())
                .withSk(p.path("sk").asText())
                .withProjectId(p.path("project_id").asText());
        HcClient core = new ClientBuilder<>(Function.<HcClient>identity())
                .withCredential(credentials).withEndpoints(List.of(url)).build();
        return new Clients(new KmsClient(core), core);
    }
}
