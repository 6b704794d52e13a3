"""The example README shows under "Using kmsemu from a test suite"."""

import json
import re
from pathlib import Path

import pytest
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.kms.v20190118 import models

# example:start
def test_encrypt_sees_the_injected_fault(kmsemu):  # the fixture of pytest-kmsemu
    client = kmsemu.tencent_client()  # the SDK's KmsClient, pointed at this kmsemu
    request = models.EncryptRequest()
    request.from_json_string(json.dumps({"KeyId": "23e80852-1e38-11e9-b129-5cb9019b4b01", "Plaintext": "aGk="}))
    client.Encrypt(request)
    fault = kmsemu.admin.add_fault(action="Encrypt", error="ResourceUnavailable.CmkDisabled")
    with pytest.raises(TencentCloudSDKException) as err:
        client.Encrypt(request)
    assert err.value.get_code() == "ResourceUnavailable.CmkDisabled"
    assert kmsemu.admin.journal_count(fault=fault["id"])["count"] == 1
# example:end


def test_readme_shows_this_example():
    here = Path(__file__)
    region = re.search(r"# example:start\n(.*?)# example:end\n", here.read_text(), re.S)[1]
    readme = (here.parents[3] / "README.md").read_text()
    shown = re.search(r"<!-- example: clients/python/tests/test_example.py -->\n```python\n(.*?)```", readme, re.S)
    assert shown and shown[1] == region
