"""The language of spec/sdk/cases.json (see CASES.md): variables,
transforms, paths and matchers. Nothing here knows an SDK."""

import base64
import json
import re
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

ROOT = Path(__file__).resolve().parents[3]
MISSING = object()
VARIABLE = re.compile(r"\$\{(\w+)\}")
HASHES = {"SHA1": hashes.SHA1, "SHA256": hashes.SHA256}


class CaseError(Exception):
    """A step that cannot be evaluated: an unknown variable or transform."""


@dataclass
class ServiceError(Exception):
    """An error answer as the SDK's exception reports it."""

    kind: str
    code: str
    status: int | None
    message: str

    def __str__(self):
        status = "" if self.status is None else f" status {self.status}"
        return f"{self.kind} code {self.code!r}{status} message {self.message!r}"


def load():
    return json.loads((ROOT / "spec/sdk/cases.json").read_text())


def show(value):
    return "(absent)" if value is MISSING else json.dumps(value, ensure_ascii=False)


def substitute(value, saved):
    """Replaces ${NAME} by saved variables and computes transforms."""
    if isinstance(value, str):
        whole = VARIABLE.fullmatch(value)
        if whole:
            return variable(saved, whole.group(1))
        return VARIABLE.sub(lambda m: text(variable(saved, m.group(1))), value)
    if isinstance(value, list):
        return [substitute(v, saved) for v in value]
    if isinstance(value, dict):
        if len(value) == 1 and next(iter(value)).startswith("$"):
            ((name, args),) = value.items()
            return transform(name, substitute(args, saved))
        return {k: substitute(v, saved) for k, v in value.items()}
    return value


def variable(saved, name):
    if name not in saved:
        raise CaseError(f"no saved variable {name!r}")
    return saved[name]


def text(value):
    return value if isinstance(value, str) else json.dumps(value)


def transform(name, args):
    if name != "$rsa_oaep":
        raise CaseError(f"unknown transform {name}")
    key = args["key"]
    if key.startswith("-----BEGIN"):
        public = serialization.load_pem_public_key(key.encode())
    else:
        public = serialization.load_der_public_key(base64.b64decode(key))
    digest = HASHES[args["hash"]]()
    oaep = padding.OAEP(mgf=padding.MGF1(digest), algorithm=digest, label=None)
    return base64.b64encode(public.encrypt(base64.b64decode(args["data"]), oaep)).decode()


def at(doc, path):
    """The value at a dot-separated PATH, or MISSING."""
    if path == "":
        return doc
    for part in path.split("."):
        if isinstance(doc, list) and part.isdigit() and int(part) < len(doc):
            doc = doc[int(part)]
        elif isinstance(doc, dict) and part in doc:
            doc = doc[part]
        else:
            return MISSING
    return doc


def equal(a, b):
    """JSON equality: numbers by value, but a boolean is no number."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(equal(x, y) for x, y in zip(a, b))
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    return type(a) is type(b) and a == b


def json_type(value):
    if isinstance(value, bool):
        return "boolean"
    for name, kind in (("integer", int), ("number", float), ("string", str),
                       ("array", list), ("object", dict)):
        if isinstance(value, kind):
            return name
    return "null"


def _match(regex, value):
    return isinstance(value, str) and re.search(regex, value) is not None


def _present(wanted, value):
    return (value is not MISSING and value is not None) == wanted


def _len(n, value):
    return isinstance(value, (str, list)) and len(value) == n


def _min(n, value):
    return json_type(value) in ("integer", "number") and value >= n


def _contains(element, value):
    return isinstance(value, list) and any(equal(element, v) for v in value)


def _type(name, value):
    # JSON has one kind of number: an integer is a number too.
    return json_type(value) == name or (name, json_type(value)) == ("number", "integer")


MATCHERS = {"match": _match, "present": _present, "len": _len, "min": _min,
            "contains": _contains, "type": _type}


def mismatch(matcher, value):
    """None if VALUE satisfies MATCHER, else what was wrong."""
    if isinstance(matcher, dict) and len(matcher) == 1 and next(iter(matcher)) in MATCHERS:
        ((name, arg),) = matcher.items()
        holds = MATCHERS[name](arg, value)
    else:
        holds = value is not MISSING and equal(matcher, value)
    return None if holds else f"expected {show(matcher)}, got {show(value)}"


def check(expect, response):
    """The list of expectations the response fails."""
    problems = []
    for path, matcher in expect.items():
        problem = mismatch(matcher, at(response, path))
        if problem:
            problems.append(f"{path or '(whole response)'}: {problem}")
    return problems


def error_mismatch(expected, err):
    """None if the ServiceError is the expected error, else what differs."""
    got = {"code": err.code, "status": err.status, "message": err.message}
    wrong = [k for k in ("code", "status", "message") if k in expected and expected[k] != got[k]]
    if not wrong:
        return None
    return f"expected error {show(expected)}, got {err}"
