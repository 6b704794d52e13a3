"""spec/sdk/cases.json through the official Python SDKs, one test per case.

Each suite gets its own kmsemu, started by its first case and stopped by
its last; a server that does not exit with status 0 fails that last case.
"""

import pytest

import casefile
import huawei
import results
import tencent
from casefile import CaseError, ServiceError, at, check, error_mismatch, show, substitute
from server import Server, ServerError

CASES = casefile.load()
DIALECTS = {"huawei": huawei.Connection, "tencent": tencent.Connection}


class Suites:
    """The kmsemu and SDK connection of each suite, or why it did not start."""

    def __init__(self):
        self.servers = {}
        self.connections = {}
        self.failures = {}

    def connection(self, suite):
        name = suite["name"]
        if name in self.failures:
            raise self.failures[name]
        if name not in self.connections:
            try:
                server = Server(suite["scenario"])
            except ServerError as err:
                self.failures[name] = err
                raise
            self.servers[name] = server
            profiles = CASES["credentials"][suite["dialect"]]
            self.connections[name] = DIALECTS[suite["dialect"]](server.url, profiles)
        return self.connections[name]

    def stop(self, name):
        server = self.servers.pop(name, None)
        return server.stop() if server else None


@pytest.fixture(scope="session")
def suites():
    s = Suites()
    yield s
    # Only a run that left out a suite's last case finds one still running.
    leftovers = [p for p in map(s.stop, list(s.servers)) if p]
    assert not leftovers, "\n".join(leftovers)


def run_step(conn, step, saved):
    """None if the step did what the case says, else what happened."""
    try:
        request = substitute(step.get("request", {}), saved)
        response = conn.call(step["op"], request, step.get("as", "default"))
    except ServiceError as err:
        if "error" in step:
            return error_mismatch(step["error"], err)
        return f"expected success, got {err}"
    except Exception as err:  # the SDK failed in some other way: a failed step too
        return f"{type(err).__name__}: {err}"
    if "error" in step:
        return f"expected error {show(step['error'])}, got success: {show(response)}"
    try:
        problems = check(substitute(step.get("expect", {}), saved), response)
    except CaseError as err:
        return str(err)
    for name, path in step.get("save", {}).items():
        saved[name] = at(response, path)
        if saved[name] is casefile.MISSING:
            problems.append(f"nothing at {path!r} to save as {name}")
    if problems:
        return "; ".join(problems) + f"; response: {show(response)}"
    return None


def run_case(suites, suite, case):
    """None if every step held, else the failure message."""
    where = f"suite {suite['name']}, case {case['name']!r}"
    try:
        conn = suites.connection(suite)
    except ServerError as err:
        for step in case["steps"]:
            results.record(suite, case, step, f"kmsemu did not start: {err}")
        return f"{where}: kmsemu did not start: {err}"
    saved = {}
    for i, step in enumerate(case["steps"]):
        problem = run_step(conn, step, saved)
        results.record(suite, case, step, problem)
        if problem:
            return f"{where}, step {i} ({step['op']}): {problem}"
    return None


@pytest.mark.parametrize("suite,case", [
    pytest.param(s, c, id=f"{s['name']}/{c['name']}") for s in CASES["suites"] for c in s["cases"]])
def test_case(suites, suite, case):
    problems = [run_case(suites, suite, case)]
    if case is suite["cases"][-1]:
        problems.append(suites.stop(suite["name"]))
    problems = [p for p in problems if p]
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)
