package io.kmsemu.junit;

/**
 * The test credentials of the scenario kmsemu loaded; {@code null} for a
 * dialect the scenario leaves out.
 */
public record Credentials(Huawei huawei, Tencent tencent) {
    /** Huawei AK/SK; projectId is {@code null} when the scenario names no project. */
    public record Huawei(String ak, String sk, String projectId) {}

    /** Tencent SecretId/SecretKey and region. */
    public record Tencent(String secretId, String secretKey, String region) {}
}
