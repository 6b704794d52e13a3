"""Tencent Cloud KMS through tencentcloud-sdk-python-kms: models.XxxRequest
from the case's JSON, client.Xxx(request), the response model as JSON."""

import json
import warnings

from tencentcloud.common.credential import Credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.kms.v20190118 import kms_client, models

from casefile import ServiceError


def typed_request(op, request):
    """models.<op>Request from the JSON; a field the model lacks is an error."""
    typed = getattr(models, f"{op}Request")()
    # The models only warn of parameters they have no field for.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        typed.from_json_string(json.dumps(request))
    return typed


class Connection:
    """Clients of one kmsemu, one per credential profile."""

    def __init__(self, url, profiles):
        self.host = url.removeprefix("http://")
        self.profiles = profiles
        self.clients = {}

    def client(self, name):
        if name not in self.clients:
            p = self.profiles[name]
            http = HttpProfile(protocol="http", endpoint=self.host)
            self.clients[name] = kms_client.KmsClient(
                Credential(p["secret_id"], p["secret_key"]), p["region"], ClientProfile(httpProfile=http))
        return self.clients[name]

    def call(self, op, request, profile):
        """The response in wire names, or ServiceError."""
        method = getattr(self.client(profile), op, None)
        if method is None:
            raise TypeError(f"KmsClient has no method {op}")
        typed = typed_request(op, request)
        try:
            response = method(typed)
        except TencentCloudSDKException as err:
            raise ServiceError(type(err).__name__, err.get_code(), None, err.get_message()) from err
        return json.loads(response.to_json_string())
