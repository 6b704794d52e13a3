package io.kmsemu.junit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import com.tencentcloudapi.common.Credential;
import com.tencentcloudapi.common.exception.TencentCloudSDKException;
import com.tencentcloudapi.common.profile.ClientProfile;
import com.tencentcloudapi.common.profile.HttpProfile;
import com.tencentcloudapi.kms.v20190118.KmsClient;
import com.tencentcloudapi.kms.v20190118.models.EncryptRequest;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

// The example README shows under "Using kmsemu from a test suite".
// example:start
@ExtendWith(KmsemuExtension.class)
class ExampleTest {
    @Test
    void encryptSeesTheInjectedFault(Kmsemu kmsemu) throws Exception {
        HttpProfile http = new HttpProfile();
        http.setEndpoint(kmsemu.host());
        http.setProtocol("http://");
        Credentials.Tencent tc = kmsemu.credentials().tencent();
        KmsClient kms = new KmsClient(new Credential(tc.secretId(), tc.secretKey()), tc.region(),
                new ClientProfile(ClientProfile.SIGN_TC3_256, http));
        EncryptRequest req = new EncryptRequest();
        req.setKeyId("23e80852-1e38-11e9-b129-5cb9019b4b01");
        req.setPlaintext("aGk=");
        kms.Encrypt(req);
        JsonNode fault = kmsemu.admin().addFault(Map.of("action", "Encrypt", "error", "ResourceUnavailable.CmkDisabled"));
        TencentCloudSDKException e = assertThrows(TencentCloudSDKException.class, () -> kms.Encrypt(req));
        assertEquals("ResourceUnavailable.CmkDisabled", e.getErrorCode());
        assertEquals(1, kmsemu.admin().journalCount(Map.of("fault", fault.get("id").asText())).get("count").asInt());
    }
}
// example:end
