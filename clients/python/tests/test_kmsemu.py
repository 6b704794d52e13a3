"""pytest-kmsemu used as a user would: the fixture and start(), the official
SDKs of both clouds, the admin client, and what a failing kmsemu does to
the test."""

import json
from pathlib import Path

import pytest
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkkms.v2 import CreateDatakeyRequest, CreateDatakeyRequestBody, KmsClient
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.kms.v20190118 import models

import pytest_kmsemu

ROOT = Path(__file__).resolve().parents[3]
HW_KEY = "0d0466b0-e727-4d9c-b35d-f84bb474a37f"  # enabled, in scenarios/default.lua
TC_KEY = "23e80852-1e38-11e9-b129-5cb9019b4b01"


def typed(model, fields):
    request = getattr(models, model)()
    request.from_json_string(json.dumps(fields))
    return request


def test_huawei_sdk_sees_one_throttle_then_passes(kmsemu):
    hw = kmsemu.credentials.huawei
    client = KmsClient.new_builder().with_endpoint(kmsemu.endpoint) \
        .with_credentials(BasicCredentials(hw.ak, hw.sk, hw.project_id)).build()
    request = CreateDatakeyRequest(body=CreateDatakeyRequestBody(key_id=HW_KEY, datakey_length="256"))
    assert len(bytes.fromhex(client.create_datakey(request).plain_text)) == 32
    kmsemu.admin.add_fault(dialect="huawei", action="create-datakey", times=1, error="throttled")
    with pytest.raises(ClientRequestException) as err:
        client.create_datakey(request)
    assert (err.value.status_code, err.value.error_code) == (429, "APIGW.0308")
    client.create_datakey(request)
    entries = kmsemu.admin.journal(action="generate_data_key")["entries"]
    assert [(e["status"], e.get("error")) for e in entries] == [(200, None), (429, "APIGW.0308"), (200, None)]
    assert kmsemu.admin.journal_count(status=429)["count"] == 1


def test_a_removed_fault_stops_firing(kmsemu):
    client = kmsemu.tencent_client()
    fault = kmsemu.admin.add_fault(dialect="tencent", action="GenerateDataKey", error="InternalError")
    assert [f["id"] for f in kmsemu.admin.faults()["faults"]] == [fault["id"]]
    request = typed("GenerateDataKeyRequest", {"KeyId": TC_KEY, "KeySpec": "AES_256"})
    with pytest.raises(TencentCloudSDKException) as err:
        client.GenerateDataKey(request)
    assert err.value.get_code() == "InternalError"
    kmsemu.admin.remove_fault(fault["id"])
    assert kmsemu.admin.faults()["faults"] == []
    assert client.GenerateDataKey(request).KeyId == TC_KEY


def test_a_fault_switched_off_and_on(kmsemu):
    client = kmsemu.tencent_client()
    fault = kmsemu.admin.add_fault(dialect="tencent", action="GenerateDataKey", error="InternalError")
    request = typed("GenerateDataKeyRequest", {"KeyId": TC_KEY, "KeySpec": "AES_256"})
    assert kmsemu.admin.switch_fault(fault["id"], False) == {"id": fault["id"], "on": False}
    assert client.GenerateDataKey(request).KeyId == TC_KEY
    kmsemu.admin.switch_fault(fault["id"], True)
    with pytest.raises(TencentCloudSDKException) as err:
        client.GenerateDataKey(request)
    assert err.value.get_code() == "InternalError"
    with pytest.raises(pytest_kmsemu.AdminError) as refused:
        kmsemu.admin.switch_fault("no-such-fault", True)
    assert refused.value.status == 404


def test_keys_and_clock_through_the_admin_client(kmsemu):
    client = kmsemu.tencent_client()
    kmsemu.admin.freeze_clock("2026-01-01T00:00:00Z")
    key = kmsemu.admin.create_key(dialect="tencent", spec="AES_256", alias="made-by-admin")
    assert any(k["id"] == key["id"] for k in kmsemu.admin.keys()["keys"])
    described = client.DescribeKey(typed("DescribeKeyRequest", {"KeyId": key["id"]}))
    assert described.KeyMetadata.CreateTime == 1767225600
    assert kmsemu.admin.advance_clock(86400)["now"] == 1767225600 + 86400
    kmsemu.admin.set_key_state("tencent", key["owner"], key["id"], "disabled")
    with pytest.raises(TencentCloudSDKException) as err:
        client.Encrypt(typed("EncryptRequest", {"KeyId": key["id"], "Plaintext": "aGk="}))
    assert err.value.get_code() == "ResourceUnavailable.CmkDisabled"


def test_admin_refusals_carry_status_and_reason(kmsemu):
    with pytest.raises(pytest_kmsemu.AdminError) as err:
        kmsemu.admin.add_fault(action="Encrypt", error="NoSuchCode.Anywhere")
    assert err.value.status == 400 and "NoSuchCode.Anywhere" in err.value.body["error"]


@pytest.mark.kmsemu(scenario=str(ROOT / "scenarios" / "tencent.lua"))
def test_the_marker_picks_the_scenario(kmsemu):
    assert kmsemu.admin.scenario()["path"].endswith("scenarios/tencent.lua")
    assert kmsemu.credentials.huawei is None
    assert kmsemu.tencent_client().GetServiceStatus(typed("GetServiceStatusRequest", {})).ServiceEnabled


def test_credentials_are_the_scenarios_own(tmp_path):
    scenario = tmp_path / "own.lua"
    scenario.write_text('credentials { tencent = { secret_id = "AKIDownCREDENTIALS00000000000000000000",\n'
                        '  secret_key = "ownSECRETkey0000000000000000000000", region = "ap-shanghai" } }\n'
                        'cmk { id = "11111111-2222-4333-8444-555555555555", dialect = "tencent" }\n')
    with pytest_kmsemu.start(scenario) as kms:
        assert kms.credentials == pytest_kmsemu.Credentials(huawei=None, tencent=pytest_kmsemu.TencentCredentials(
            "AKIDownCREDENTIALS00000000000000000000", "ownSECRETkey0000000000000000000000", "ap-shanghai"))
        request = typed("DescribeKeyRequest", {"KeyId": "11111111-2222-4333-8444-555555555555"})
        assert kms.tencent_client().DescribeKey(request).KeyMetadata.KeyState == "Enabled"


@pytest.mark.kmsemu(scenario=str(ROOT / "scenarios" / "huawei.lua"))
def test_no_tencent_client_without_tencent_credentials(kmsemu):
    with pytest.raises(pytest_kmsemu.KmsemuError, match="the scenario gives no Tencent credentials"):
        kmsemu.tencent_client()


def test_a_scenario_that_does_not_load_fails_start_with_its_message(tmp_path):
    scenario = tmp_path / "broken.lua"
    scenario.write_text('cmk { id = "not-a-key-id", dialect = "tencent" }\n')
    with pytest.raises(pytest_kmsemu.KmsemuError, match=r"exited with status 2; stderr:\n.*broken\.lua:1: "):
        pytest_kmsemu.start(scenario)


FAKE_KMSEMU = """#!/bin/sh
trap 'echo "kmsemu: could not flush" >&2; exit 3' TERM
echo "kmsemu listening on http://127.0.0.1:9"
echo "  0 keys from fake"
while :; do sleep 0.1; done
"""


def test_a_kmsemu_that_stops_badly_fails_the_test(pytester, monkeypatch):
    fake = pytester.path / "fake-kmsemu"
    fake.write_text(FAKE_KMSEMU)
    fake.chmod(0o755)
    monkeypatch.setenv("KMSEMU_BIN", str(fake))
    pytester.makepyfile("def test_uses_it(kmsemu):\n    assert kmsemu.endpoint == 'http://127.0.0.1:9'\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*kmsemu did not stop cleanly*exited with status 3*", "*could not flush*"])


def test_the_binary_is_kmsemu_bin_then_path_then_the_checkout(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KMSEMU_BIN", "somewhere/kmsemu")
    assert pytest_kmsemu.find_binary() == str(tmp_path / "somewhere" / "kmsemu")
    monkeypatch.delenv("KMSEMU_BIN")
    (tmp_path / "kmsemu").write_text(FAKE_KMSEMU)
    (tmp_path / "kmsemu").chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert pytest_kmsemu.find_binary() == str(tmp_path / "kmsemu")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert pytest_kmsemu.find_binary() == str(ROOT / "build" / "kmsemu")
