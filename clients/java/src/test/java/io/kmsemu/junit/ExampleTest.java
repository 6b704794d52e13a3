package io.kmsemu.junit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import com.tencentcloudapi.common.exception.TencentCloudSDKException;
import com.tencentcloudapi.kms.v20190118.KmsClient;
import com.tencentcloudapi.kms.v20190118.models.EncryptRequest;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

class ExampleTest {
    // The example README shows under "Using kmsemu from a test suite".
    // example:start
    @Test
    @ExtendWith(KmsemuExtension.class) // or on the class, for all its tests
    void encryptSeesTheInjectedFault(Kmsemu kmsemu) throws Exception {
        KmsClient kms = kmsemu.tencentClient(); // the SDK's client, pointed at this kmsemu
        EncryptRequest req = new EncryptRequest();
        req.setKeyId("23e80852-1e38-11e9-b129-5cb9019b4b01");
        req.setPlaintext("aGk=");
        kms.Encrypt(req);
        JsonNode fault = kmsemu.admin().addFault(Map.of("action", "Encrypt", "error", "ResourceUnavailable.CmkDisabled"));
        assertEquals("ResourceUnavailable.CmkDisabled", assertThrows(TencentCloudSDKException.class, () -> kms.Encrypt(req)).getErrorCode());
        assertEquals(1, kmsemu.admin().journalCount(Map.of("fault", fault.get("id").asText())).get("count").asInt());
    }
    // example:end
}
