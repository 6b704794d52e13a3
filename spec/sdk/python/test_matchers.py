"""The matchers, paths and variables of casefile reject what they should."""

import base64

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from casefile import CaseError, at, mismatch, substitute

DOC = {"s": "AB12", "n": 7, "f": 1.5, "t": True, "a": [{"k": "v"}, 2], "z": None}


@pytest.mark.parametrize("path,matcher,holds", [
    ("s", "AB12", True), ("s", "ab12", False),
    ("n", 7.0, True), ("n", 8, False), ("t", 1, False), ("n", "7", False),
    ("s", {"match": "^[A-F0-9]{4}$"}, True), ("s", {"match": "^[a-f]"}, False),
    ("z", {"present": False}, True), ("missing", {"present": False}, True),
    ("n", {"present": False}, False), ("missing", {"present": True}, False),
    ("a", {"len": 2}, True), ("s", {"len": 3}, False),
    ("n", {"min": 7}, True), ("n", {"min": 8}, False), ("s", {"min": 0}, False),
    ("a", {"contains": {"k": "v"}}, True), ("a", {"contains": 3}, False),
    ("n", {"type": "integer"}, True), ("f", {"type": "integer"}, False),
    ("f", {"type": "number"}, True), ("t", {"type": "integer"}, False),
    ("a.0.k", "v", True), ("a.2", {"present": True}, False), ("", {"type": "object"}, True),
    ("missing", None, False), ("z", None, True),
])
def test_matcher(path, matcher, holds):
    assert (mismatch(matcher, at(DOC, path)) is None) == holds


def test_variables_keep_their_type_when_whole():
    saved = {"n": 3, "id": "k-1"}
    assert substitute({"a": "${n}", "b": "key ${id}/${n}", "c": ["${id}"]}, saved) == \
        {"a": 3, "b": "key k-1/3", "c": ["k-1"]}
    with pytest.raises(CaseError):
        substitute("${unknown}", saved)


@pytest.mark.parametrize("hash_name,digest", [("SHA1", hashes.SHA1), ("SHA256", hashes.SHA256)])
def test_rsa_oaep_decrypts_with_the_private_key(hash_name, digest):
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    der = private.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    pem = private.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()
    oaep = padding.OAEP(mgf=padding.MGF1(digest()), algorithm=digest(), label=None)
    for key in (base64.b64encode(der).decode(), pem):
        sealed = substitute({"$rsa_oaep": {"key": key, "hash": hash_name, "data": "c2VjcmV0"}}, {})
        assert private.decrypt(base64.b64decode(sealed), oaep) == b"secret"
