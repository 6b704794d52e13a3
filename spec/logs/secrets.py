"""Checks an access log of a whole SDK run for secrets.

Usage: secrets.py LOG WIRE

LOG is the access log (any format) of every kmsemu the run started; WIRE
the bytes the SDKs' sockets sent and received (spec/logs/wire.js). The log
must hold none of: the credential secrets of the scenarios (sk, secret_key,
password, token), and the values of every plaintext, data key or key
material field that crossed the wire (of 8 characters or more, as whole
tokens). A copy of the log with one secret planted must be caught, which
shows the search works. Prints one
line per check and ends with "N passed, M failed".
"""

import json
import pathlib
import re
import sys
from urllib.parse import unquote

ROOT = pathlib.Path(__file__).resolve().parents[2]
MIN_LEN = 8  # shorter values ("hi", "aGk=") could be in a log by chance
SECRET_FIELD = re.compile(rb'"([A-Za-z_]*(?:[Pp]lain|[Mm]aterial|[Ss]ecret|[Pp]assword)[A-Za-z_]*)"\s*:\s*"((?:[^"\\]|\\.)*)"')
SECRET_PAIR = re.compile(rb'[?&]([A-Za-z_.]*Plaintext[A-Za-z_.]*)=([^&\s]+)')
SCENARIO_SECRET = re.compile(r'\b(sk|secret_key|password|token)\s*=\s*"([^"]+)"')


def scenario_secrets():
    found = set()
    for path in sorted((ROOT / "scenarios").rglob("*.lua")):
        found.update(m.group(2) for m in SCENARIO_SECRET.finditer(path.read_text()))
    return found


def wire_values(wire):
    values = set()
    for m in SECRET_FIELD.finditer(wire):
        values.add(json.loads(b'"' + m.group(2) + b'"'))
    for m in SECRET_PAIR.finditer(wire):
        values.add(unquote(m.group(2).decode(errors="replace")))
    return values


def leaks(log, secrets):
    """The secrets the log holds as a whole token (not inside a longer
    word: a plaintext "12345678" is also the tail of a key id)."""
    return sorted(s for s in secrets if s in log and
                  re.search(r"(?<![A-Za-z0-9])" + re.escape(s) + r"(?![A-Za-z0-9])", log))


def main():
    log = pathlib.Path(sys.argv[1]).read_text(errors="replace")
    wire = pathlib.Path(sys.argv[2]).read_bytes()
    creds = scenario_secrets()
    values = wire_values(wire)
    long_values = {v for v in values if len(v) >= MIN_LEN}
    planted = sorted(creds)[0]
    results = [
        ("the log holds the run's requests", log.count("\n") >= 100, f"{log.count(chr(10))} lines"),
        ("the wire holds plaintexts and data keys", len(long_values) >= 20,
         f"{len(long_values)} values of {MIN_LEN}+ characters, {len(values) - len(long_values)} shorter"),
        ("no credential secret of the scenarios", not leaks(log, creds), f"{len(creds)} secrets"),
        ("no plaintext or data key that crossed the wire", not leaks(log, long_values),
         ", ".join(leaks(log, long_values))[:300]),
        ("a planted secret is caught", leaks(log + '"reason":"' + planted + '"\n', creds) == [planted], planted),
    ]
    failed = 0
    for name, ok, detail in results:
        print(f"{'ok' if ok else 'FAILED'}: {name} ({detail})")
        failed += not ok
    print(f"{len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
