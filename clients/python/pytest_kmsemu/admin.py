"""A thin client of kmsemu's admin API (/_kmsemu/, README "Admin API"):
one method per operation, each returning the parsed JSON answer."""

import json
import urllib.error
import urllib.parse
import urllib.request


class AdminError(Exception):
    """The admin API refused a request: status and the parsed answer."""

    def __init__(self, method, path, status, body):
        super().__init__(f"{method} {path}: {status} {body}")
        self.status = status
        self.body = body


class Admin:
    def __init__(self, endpoint, token=None):
        self.base = endpoint.rstrip("/") + "/_kmsemu/"
        self.token = token
        # A proxy from the environment must not see loopback calls.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def request(self, method, path, body=None, query=None, raw=False):
        """One call: body is JSON-encoded unless a str; the answer parsed,
        or its text when raw."""
        url = self.base + path
        if query:
            url += "?" + urllib.parse.urlencode(query)
        data = body if isinstance(body, str) or body is None else json.dumps(body)
        req = urllib.request.Request(url, method=method, data=data and data.encode())
        if self.token:
            req.add_header("Authorization", "Bearer " + self.token)
        try:
            with self._opener.open(req) as res:
                text = res.read().decode()
        except urllib.error.HTTPError as err:
            text = err.read().decode()
            try:
                answer = json.loads(text)
            except ValueError:
                answer = text
            raise AdminError(method, path, err.code, answer) from None
        return text if raw else json.loads(text)

    def health(self):
        return self.request("GET", "health")

    def reset(self):
        """Back to the scenario's initial state; the journal is cleared."""
        return self.request("POST", "reset")

    def scenario(self):
        return self.request("GET", "scenario")

    def load_scenario(self, source):
        """Replaces the scenario with this Lua text (AdminError 400 if it
        does not load; the old one stays)."""
        return self.request("PUT", "scenario", source)

    def faults(self):
        return self.request("GET", "faults")

    def add_fault(self, **fault):
        """add_fault(dialect="tencent", action="Encrypt", error="...") -> {"id": "1"}"""
        return self.request("POST", "faults", fault)

    def remove_fault(self, fault_id):
        return self.request("DELETE", f"faults/{urllib.parse.quote(str(fault_id), safe='')}")

    def switch_fault(self, fault_id, on):
        """Switches a fault off (it sees no calls, as if removed) or back on."""
        quoted = urllib.parse.quote(str(fault_id), safe="")
        return self.request("POST", f"faults/{quoted}/{'on' if on else 'off'}")

    def clear_faults(self):
        return self.request("DELETE", "faults")

    def journal(self, **filters):
        """journal(action="Encrypt", status=200, limit=10) -> {"entries": [...], "count": n}"""
        return self.request("GET", "journal", query=filters)

    def journal_count(self, **filters):
        return self.request("GET", "journal/count", query=filters)

    def clear_journal(self):
        return self.request("DELETE", "journal")

    def clock(self):
        return self.request("GET", "clock")

    def set_clock(self, at, frozen=None):
        """at: an instant ("2026-01-01T00:00:00Z") or unix seconds."""
        body = {"set": at}
        if frozen is not None:
            body["frozen"] = frozen
        return self.request("POST", "clock", body)

    def advance_clock(self, seconds):
        return self.request("POST", "clock", {"advance": seconds})

    def freeze_clock(self, at=None):
        """Stops the emulated clock (at `at` if given) until set or advanced."""
        body = {"frozen": True}
        if at is not None:
            body["set"] = at
        return self.request("POST", "clock", body)

    def keys(self):
        return self.request("GET", "keys")

    def create_key(self, **cmk):
        """create_key(dialect="tencent", spec="AES_256") -> the key, as cmk{} makes it."""
        return self.request("POST", "keys", cmk)

    def set_key_state(self, dialect, owner, key_id, state):
        """owner: the Huawei project or the Tencent region of the key."""
        return self.request("POST", "keys/state",
                            {"dialect": dialect, "owner": owner, "id": key_id, "state": state})

    def metrics(self):
        """The Prometheus text."""
        return self.request("GET", "metrics", raw=True)
