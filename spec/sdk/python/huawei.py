"""Huawei Cloud KMS through huaweicloudsdkkms: typed request models built
from the case's wire names, typed responses serialised back to them."""

import json
import re

from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions.exceptions import ServiceResponseException
from huaweicloudsdkkms.v2 import KmsClient, model

from casefile import ServiceError

# The JSON values each primitive of the models' openapi_types can hold.
PRIMITIVES = {"str": str, "int": int, "float": (int, float), "bool": bool}


def snake_case(op):
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", op).lower()


def fits(type_name, value):
    if type_name == "object":
        return True
    if isinstance(value, bool):
        return type_name == "bool"
    return type_name in PRIMITIVES and isinstance(value, PRIMITIVES[type_name])


def build(type_name, value, where):
    """The model TYPE_NAME holding the wire-named VALUE, which must fit it."""
    if type_name.startswith("list[") and isinstance(value, list):
        return [build(type_name[5:-1], v, f"{where}.{i}") for i, v in enumerate(value)]
    if fits(type_name, value):
        return value
    klass = getattr(model, type_name, None)
    if klass is not None and isinstance(value, dict):
        return build_model(klass, value, where)
    raise TypeError(f"{where} is a {type_name}, the case gives {json.dumps(value)}")


def build_model(klass, value, where):
    attrs = {wire: attr for attr, wire in klass.attribute_map.items()}
    unknown = sorted(set(value) - set(attrs))
    if unknown:
        raise TypeError(f"{klass.__name__} has no field {', '.join(unknown)}")
    return klass(**{attrs[wire]: build(klass.openapi_types[attrs[wire]], v, f"{where}.{wire}")
                    for wire, v in value.items()})


class Connection:
    """Clients of one kmsemu, one per credential profile."""

    def __init__(self, url, profiles):
        self.url = url
        self.profiles = profiles
        self.clients = {}

    def client(self, name):
        if name not in self.clients:
            p = self.profiles[name]
            # An endpoint and a project id given: the SDK asks no IAM endpoint.
            self.clients[name] = KmsClient.new_builder() \
                .with_credentials(BasicCredentials(p["ak"], p["sk"], p["project_id"])) \
                .with_endpoint(self.url) \
                .build()
        return self.clients[name]

    def call(self, op, request, profile):
        """The response in wire names, or ServiceError."""
        method = getattr(self.client(profile), snake_case(op), None)
        if method is None:
            raise TypeError(f"KmsClient has no method {snake_case(op)}")
        typed = build(f"{op}Request", request, f"{op}Request")
        try:
            response = method(typed)
        except ServiceResponseException as err:
            raise ServiceError(type(err).__name__, err.error_code, err.status_code, err.error_msg) from err
        # to_str is the SDK's own serialisation of the model, in wire names.
        return json.loads(response.to_str())
