package kmsemu.sdk;

import com.fasterxml.jackson.databind.JsonNode;
import com.tencentcloudapi.common.AbstractModel;
import com.tencentcloudapi.common.CommonClient;
import com.tencentcloudapi.common.CommonRequest;
import com.tencentcloudapi.common.Credential;
import com.tencentcloudapi.common.exception.TencentCloudSDKException;
import com.tencentcloudapi.common.profile.ClientProfile;
import com.tencentcloudapi.common.profile.HttpProfile;
import com.tencentcloudapi.kms.v20190118.KmsClient;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.net.URI;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * tencentcloud-sdk-java-kms: KmsClient.Op(OpRequest), models read and written by the SDK's own Gson.
 * An action KmsClient lacks goes through the SDK's CommonClient with the same credential and profile.
 */
final class Tencent implements Dialect {
    private record Clients(KmsClient typed, CommonClient core) {}

    private final JsonNode profiles;
    private final URI url;
    private final Map<String, Clients> clients = new HashMap<>();

    Tencent(JsonNode profiles, String url) {
        this.profiles = profiles;
        this.url = URI.create(url);
    }

    @Override
    public String via(String op) {
        return Dialect.operation(KmsClient.class, op).isPresent() ? "sdk" : "core";
    }

    @Override
    public Outcome call(String profile, String op, JsonNode request) throws Exception {
        Clients c = clients.computeIfAbsent(profile, this::clients);
        Optional<Method> method = Dialect.operation(KmsClient.class, op);
        try {
            JsonNode response = method.isPresent() ? typed(c.typed(), method.get(), request) : core(c.core(), op, request);
            return new Outcome(response, null);
        } catch (TencentCloudSDKException t) {
            return new Outcome(null, new ServiceError(t.getClass().getSimpleName(), t.getErrorCode(), null, t.getMessage()));
        }
    }

    private static JsonNode typed(KmsClient client, Method method, JsonNode request) throws Exception {
        Class<?> type = method.getParameterTypes()[0];
        AbstractModel model = (AbstractModel) AbstractModel.fromJsonString(request.toString(), type);
        Json.requireHeld(request, Json.parse(AbstractModel.toJsonString(model)));
        try {
            return Json.parse(AbstractModel.toJsonString((AbstractModel) method.invoke(client, model)));
        } catch (InvocationTargetException e) {
            throw Dialect.thrown(e);
        }
    }

    /** What the typed path's response model holds: the answer's "Response" object. */
    private static JsonNode core(CommonClient client, String op, JsonNode request) throws Exception {
        return Json.parse(client.commonRequest(new CommonRequest(request.toString()), op)).path("Response");
    }

    private Clients clients(String profile) {
        JsonNode p = Dialect.profile(profiles, profile);
        HttpProfile http = new HttpProfile();
        http.setProtocol(url.getScheme() + "://");
        http.setEndpoint(url.getAuthority());
        ClientProfile clientProfile = new ClientProfile();
        clientProfile.setHttpProfile(http);
        Credential credential = new Credential(p.path("secret_id").asText(), p.path("secret_key").asText());
        String region = p.path("region").asText();
        return new Clients(new KmsClient(credential, region, clientProfile),
                new CommonClient("kms", "2019-01-18", credential, region, clientProfile));
    }
}
