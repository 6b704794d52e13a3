package io.kmsemu.junit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import com.fasterxml.jackson.databind.JsonNode;
import com.huaweicloud.sdk.core.auth.BasicCredentials;
import com.huaweicloud.sdk.core.exception.ServiceResponseException;
import com.tencentcloudapi.common.exception.TencentCloudSDKException;
import com.tencentcloudapi.kms.v20190118.KmsClient;
import com.tencentcloudapi.kms.v20190118.models.DescribeKeyRequest;
import com.tencentcloudapi.kms.v20190118.models.EncryptRequest;
import com.tencentcloudapi.kms.v20190118.models.GenerateDataKeyRequest;
import com.tencentcloudapi.kms.v20190118.models.GetServiceStatusRequest;
import com.huaweicloud.sdk.kms.v2.model.CreateDatakeyRequest;
import com.huaweicloud.sdk.kms.v2.model.CreateDatakeyRequestBody;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.platform.testkit.engine.EngineTestKit;
import org.junit.platform.testkit.engine.Events;

/** The extension used as a user would, with the official SDKs of both clouds. */
@ExtendWith(KmsemuExtension.class)
class KmsemuExtensionTest {
    // Enabled keys of scenarios/default.lua.
    static final String HW_KEY = "0d0466b0-e727-4d9c-b35d-f84bb474a37f";
    static final String TC_KEY = "23e80852-1e38-11e9-b129-5cb9019b4b01";
    static final Path ROOT = Path.of("../..").toAbsolutePath().normalize();

    Kmsemu before;

    @BeforeEach
    void remember(Kmsemu kmsemu) {
        before = kmsemu;
    }

    @Test
    void huaweiSdkSeesOneThrottleThenPasses(Kmsemu kmsemu) {
        assertSame(before, kmsemu, "@BeforeEach and the test share one kmsemu");
        Credentials.Huawei hw = kmsemu.credentials().huawei();
        com.huaweicloud.sdk.kms.v2.KmsClient kms = com.huaweicloud.sdk.kms.v2.KmsClient.newBuilder()
                .withCredential(new BasicCredentials().withAk(hw.ak()).withSk(hw.sk()).withProjectId(hw.projectId()))
                .withEndpoints(List.of(kmsemu.endpoint())).build();
        CreateDatakeyRequest req = new CreateDatakeyRequest().withBody(
                new CreateDatakeyRequestBody().withKeyId(HW_KEY).withDatakeyLength("256"));
        assertEquals(64, kms.createDatakey(req).getPlainText().length());
        kmsemu.admin().addFault(Map.of("dialect", "huawei", "action", "create-datakey", "times", 1, "error", "throttled"));
        ServiceResponseException e = assertThrows(ServiceResponseException.class, () -> kms.createDatakey(req));
        assertEquals(429, e.getHttpStatusCode());
        assertEquals("APIGW.0308", e.getErrorCode());
        kms.createDatakey(req);
        List<Integer> statuses = new ArrayList<>();
        kmsemu.admin().journal(Map.of("action", "generate_data_key")).get("entries")
                .forEach(entry -> statuses.add(entry.get("status").asInt()));
        assertEquals(List.of(200, 429, 200), statuses);
    }

    @Test
    void aRemovedFaultStopsFiring(Kmsemu kmsemu) throws Exception {
        KmsClient kms = kmsemu.tencentClient();
        String id = kmsemu.admin().addFault(Map.of("dialect", "tencent", "action", "GenerateDataKey",
                "error", "InternalError")).get("id").asText();
        JsonNode faults = kmsemu.admin().faults().get("faults");
        assertEquals(1, faults.size());
        assertEquals(id, faults.get(0).get("id").asText());
        GenerateDataKeyRequest req = new GenerateDataKeyRequest();
        req.setKeyId(TC_KEY);
        req.setKeySpec("AES_256");
        assertEquals("InternalError", assertThrows(TencentCloudSDKException.class,
                () -> kms.GenerateDataKey(req)).getErrorCode());
        kmsemu.admin().removeFault(id);
        assertEquals(TC_KEY, kms.GenerateDataKey(req).getKeyId());
    }

    @Test
    void aFaultSwitchedOffAndOn(Kmsemu kmsemu) throws Exception {
        KmsClient kms = kmsemu.tencentClient();
        String id = kmsemu.admin().addFault(Map.of("dialect", "tencent", "action", "GenerateDataKey",
                "error", "InternalError")).get("id").asText();
        GenerateDataKeyRequest req = new GenerateDataKeyRequest();
        req.setKeyId(TC_KEY);
        req.setKeySpec("AES_256");
        JsonNode off = kmsemu.admin().switchFault(id, false);
        assertEquals(id, off.get("id").asText());
        assertEquals("false", String.valueOf(off.get("on")));
        assertEquals(TC_KEY, kms.GenerateDataKey(req).getKeyId());
        kmsemu.admin().switchFault(id, true);
        assertEquals("InternalError", assertThrows(TencentCloudSDKException.class,
                () -> kms.GenerateDataKey(req)).getErrorCode());
        assertEquals(404, assertThrows(Admin.AdminException.class,
                () -> kmsemu.admin().switchFault("no-such-fault", true)).status());
    }

    @Test
    void keysAndClockThroughTheAdminClient(Kmsemu kmsemu) throws Exception {
        KmsClient kms = kmsemu.tencentClient();
        kmsemu.admin().freezeClock("2026-01-01T00:00:00Z");
        JsonNode key = kmsemu.admin().createKey(Map.of("dialect", "tencent", "spec", "AES_256", "alias", "made-by-admin"));
        String id = key.get("id").asText();
        DescribeKeyRequest describe = new DescribeKeyRequest();
        describe.setKeyId(id);
        assertEquals(1767225600L, kms.DescribeKey(describe).getKeyMetadata().getCreateTime());
        assertEquals(1767225600L + 86400, kmsemu.admin().advanceClock(86400).get("now").asLong());
        kmsemu.admin().setKeyState("tencent", key.get("owner").asText(), id, "disabled");
        EncryptRequest encrypt = new EncryptRequest();
        encrypt.setKeyId(id);
        encrypt.setPlaintext("aGk=");
        assertEquals("ResourceUnavailable.CmkDisabled", assertThrows(TencentCloudSDKException.class,
                () -> kms.Encrypt(encrypt)).getErrorCode());
    }

    @Test
    void adminRefusalsCarryStatusAndReason(Kmsemu kmsemu) {
        Admin.AdminException e = assertThrows(Admin.AdminException.class,
                () -> kmsemu.admin().addFault(Map.of("action", "Encrypt", "error", "NoSuchCode.Anywhere")));
        assertEquals(400, e.status());
        assertTrue(e.body().get("error").asText().contains("NoSuchCode.Anywhere"), e.getMessage());
    }

    @Test
    @KmsemuScenario("../../scenarios/tencent.lua")
    void theAnnotationPicksTheScenario(Kmsemu kmsemu) throws Exception {
        assertTrue(kmsemu.admin().scenario().get("path").asText().endsWith("scenarios/tencent.lua"));
        assertNull(kmsemu.credentials().huawei());
        assertTrue(kmsemu.tencentClient().GetServiceStatus(new GetServiceStatusRequest()).getServiceEnabled());
    }

    @Test
    void credentialsAreTheScenariosOwn(@TempDir Path dir) throws Exception {
        Path scenario = Files.writeString(dir.resolve("own.lua"), """
                credentials { tencent = { secret_id = "AKIDownCREDENTIALS00000000000000000000",
                  secret_key = "ownSECRETkey0000000000000000000000", region = "ap-shanghai" } }
                cmk { id = "11111111-2222-4333-8444-555555555555", dialect = "tencent" }
                """);
        try (Kmsemu kmsemu = Kmsemu.start(scenario.toString())) {
            assertEquals(new Credentials(null, new Credentials.Tencent("AKIDownCREDENTIALS00000000000000000000",
                    "ownSECRETkey0000000000000000000000", "ap-shanghai")), kmsemu.credentials());
            DescribeKeyRequest req = new DescribeKeyRequest();
            req.setKeyId("11111111-2222-4333-8444-555555555555");
            assertEquals("Enabled", kmsemu.tencentClient().DescribeKey(req).getKeyMetadata().getKeyState());
        }
    }

    @Test
    @KmsemuScenario("../../scenarios/huawei.lua")
    void noTencentClientWithoutTencentCredentials(Kmsemu kmsemu) {
        KmsemuException e = assertThrows(KmsemuException.class, kmsemu::tencentClient);
        assertEquals("the scenario gives no Tencent credentials", e.getMessage());
    }

    @Test
    void aScenarioThatDoesNotLoadFailsStartWithItsMessage(@TempDir Path dir) throws Exception {
        Path scenario = Files.writeString(dir.resolve("broken.lua"), "cmk { id = \"not-a-key-id\", dialect = \"tencent\" }\n");
        KmsemuException e = assertThrows(KmsemuException.class, () -> Kmsemu.start(scenario.toString()));
        assertTrue(e.getMessage().contains("exited with status 2; stderr:\n"), e.getMessage());
        assertTrue(e.getMessage().contains("broken.lua:1: "), e.getMessage());
    }

    static final String FAKE_KMSEMU = """
            #!/bin/sh
            trap 'echo "kmsemu: could not flush" >&2; exit 3' TERM
            echo "kmsemu listening on http://127.0.0.1:9"
            echo "  0 keys from fake"
            while :; do sleep 0.1; done
            """;

    /** Run by the test below through the JUnit engine, with a kmsemu that exits 3. */
    @ExtendWith(KmsemuExtension.class)
    static class UsesAFakeKmsemu {
        @Test
        void passes(Kmsemu kmsemu) {
            assertEquals("http://127.0.0.1:9", kmsemu.endpoint());
        }
    }

    @Test
    void aKmsemuThatStopsBadlyFailsTheTest(@TempDir Path dir) throws Exception {
        Path fake = Files.writeString(dir.resolve("fake-kmsemu"), FAKE_KMSEMU);
        Files.setPosixFilePermissions(fake, PosixFilePermissions.fromString("rwxr-xr-x"));
        Events tests;
        System.setProperty("kmsemu.bin", fake.toString());
        try {
            tests = EngineTestKit.engine("junit-jupiter").selectors(selectClass(UsesAFakeKmsemu.class))
                    .execute().testEvents();
        } finally {
            System.clearProperty("kmsemu.bin");
        }
        tests.assertStatistics(s -> s.started(1).failed(1));
        Throwable failure = tests.failed().list().get(0).getPayload(
                org.junit.platform.engine.TestExecutionResult.class).orElseThrow().getThrowable().orElseThrow();
        // JUnit reports "Failed to close extension context", caused by the extension's exception.
        Throwable cause = failure;
        while (!(cause instanceof KmsemuException) && cause.getCause() != null) {
            cause = cause.getCause();
        }
        assertTrue(cause instanceof KmsemuException, failure.toString());
        assertTrue(cause.getMessage().contains("kmsemu did not stop cleanly"), cause.getMessage());
        assertTrue(cause.getMessage().contains("exited with status 3"), cause.getMessage());
        assertTrue(cause.getMessage().contains("kmsemu: could not flush"), cause.getMessage());
    }

    @Test
    void theBinaryIsThePropertyThenKmsemuBinThenPathThenTheCheckout(@TempDir Path dir) {
        System.setProperty("kmsemu.bin", "somewhere/kmsemu");
        try {
            assertEquals(Path.of("somewhere/kmsemu").toAbsolutePath(), Kmsemu.binary());
        } finally {
            System.clearProperty("kmsemu.bin");
        }
        String env = System.getenv("KMSEMU_BIN");
        Path expected = env != null && !env.isEmpty() ? Path.of(env).toAbsolutePath() : ROOT.resolve("build/kmsemu");
        assertEquals(expected, Kmsemu.binary());
    }

    @Test
    void readmeShowsExampleTest() throws Exception {
        String source = Files.readString(Path.of("src/test/java/io/kmsemu/junit/ExampleTest.java"));
        Matcher region = Pattern.compile("(?m)^ *// example:start\n(.*?)^ *// example:end\n", Pattern.DOTALL).matcher(source);
        assertTrue(region.find());
        String readme = Files.readString(ROOT.resolve("README.md"));
        Matcher shown = Pattern.compile("<!-- example: clients/java/src/test/java/io/kmsemu/junit/ExampleTest.java -->\n"
                + "```java\n(.*?)```", Pattern.DOTALL).matcher(readme);
        assertTrue(shown.find(), "README shows no Java example");
        // README shows the method without the class's indentation.
        assertEquals(region.group(1).replaceAll("(?m)^    ", ""), shown.group(1));
    }
}
