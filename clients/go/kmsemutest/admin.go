package kmsemutest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// JSON is a request body, a journal filter, or a parsed answer.
type JSON = map[string]any

// Admin is a thin client of kmsemu's admin API (/_kmsemu/, README "Admin
// API"): one method per operation, each returning the parsed answer. A
// call that fails, or that the API refuses, fails the test through
// t.Fatalf, so call it from the test's goroutine; For gives the same
// client for a subtest, and Do answers refusals instead of failing.
type Admin struct {
	t    testing.TB
	base string
}

// For answers an Admin that fails t instead (a subtest's).
func (a *Admin) For(t testing.TB) *Admin {
	return &Admin{t: t, base: a.base}
}

// Do sends one request (body: nil, a string sent as it is, or a value sent
// as JSON) and answers the status and the parsed answer, whatever the
// status; err only when there is no answer.
func (a *Admin) Do(method, path string, body any) (int, JSON, error) {
	status, text, err := a.send(method, path, body)
	if err != nil {
		return 0, nil, err
	}
	var answer JSON
	if err := json.Unmarshal(text, &answer); err != nil {
		return status, nil, fmt.Errorf("%s %s: %d and no JSON object: %q", method, path, status, text)
	}
	return status, answer, nil
}

func (a *Admin) send(method, path string, body any) (int, []byte, error) {
	var reader io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		reader = strings.NewReader(b)
	default:
		encoded, err := json.Marshal(b)
		if err != nil {
			return 0, nil, err
		}
		reader = bytes.NewReader(encoded)
	}
	req, err := http.NewRequest(method, a.base+path, reader)
	if err != nil {
		return 0, nil, err
	}
	res, err := loopback.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	text, err := io.ReadAll(res.Body)
	return res.StatusCode, text, err
}

// A proxy from the environment must not see loopback calls; no connection
// is kept, so none is left open when kmsemu stops.
var loopback = &http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}

func (a *Admin) call(method, path string, body any) JSON {
	a.t.Helper()
	status, answer, err := a.Do(method, path, body)
	if err != nil {
		a.t.Fatalf("kmsemu admin: %v", err)
	}
	if status >= 300 {
		a.t.Fatalf("kmsemu admin: %s %s: %d %v", method, path, status, answer)
	}
	return answer
}

func query(filter JSON) string {
	q := url.Values{}
	for k, v := range filter {
		q.Set(k, fmt.Sprint(v))
	}
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}

// Health answers {status, scenario}.
func (a *Admin) Health() JSON { a.t.Helper(); return a.call("GET", "health", nil) }

// Reset goes back to the scenario's initial state; the journal is cleared.
func (a *Admin) Reset() JSON { a.t.Helper(); return a.call("POST", "reset", nil) }

// Scenario answers {path, source}.
func (a *Admin) Scenario() JSON { a.t.Helper(); return a.call("GET", "scenario", nil) }

// LoadScenario replaces the scenario with this Lua text.
func (a *Admin) LoadScenario(source string) JSON {
	a.t.Helper()
	return a.call("PUT", "scenario", source)
}

// Faults answers {faults: [...]}, each with its id.
func (a *Admin) Faults() JSON { a.t.Helper(); return a.call("GET", "faults", nil) }

// AddFault adds a fault as fault{} declares one: AddFault(JSON{"action":
// "Encrypt", "error": "ResourceUnavailable.CmkDisabled"}) answers {id}.
func (a *Admin) AddFault(fault JSON) JSON { a.t.Helper(); return a.call("POST", "faults", fault) }

// RemoveFault removes one fault by its id.
func (a *Admin) RemoveFault(id string) JSON {
	a.t.Helper()
	return a.call("DELETE", "faults/"+url.PathEscape(id), nil)
}

// SwitchFault switches a fault off (it sees no calls, as if removed) or
// back on; it answers {id, on}.
func (a *Admin) SwitchFault(id string, on bool) JSON {
	a.t.Helper()
	state := "off"
	if on {
		state = "on"
	}
	return a.call("POST", "faults/"+url.PathEscape(id)+"/"+state, nil)
}

// ClearFaults removes every fault.
func (a *Admin) ClearFaults() JSON { a.t.Helper(); return a.call("DELETE", "faults", nil) }

// Journal answers {entries, count} for the filters (dialect, action,
// key_id, caller, method, path, status, error, fault, connection, since)
// and limit.
func (a *Admin) Journal(filter JSON) JSON {
	a.t.Helper()
	return a.call("GET", "journal"+query(filter), nil)
}

// JournalCount answers {count} for the filters.
func (a *Admin) JournalCount(filter JSON) JSON {
	a.t.Helper()
	return a.call("GET", "journal/count"+query(filter), nil)
}

// ClearJournal empties the journal.
func (a *Admin) ClearJournal() JSON { a.t.Helper(); return a.call("DELETE", "journal", nil) }

// Clock answers {now, iso, frozen, offset}.
func (a *Admin) Clock() JSON { a.t.Helper(); return a.call("GET", "clock", nil) }

// SetClock sets the emulated clock to an instant ("2026-01-01T00:00:00Z")
// or unix seconds.
func (a *Admin) SetClock(at any) JSON {
	a.t.Helper()
	return a.call("POST", "clock", JSON{"set": at})
}

// AdvanceClock moves the emulated clock forward.
func (a *Admin) AdvanceClock(seconds int64) JSON {
	a.t.Helper()
	return a.call("POST", "clock", JSON{"advance": seconds})
}

// FreezeClock stops the emulated clock, at `at` unless it is nil, until
// it is set or advanced.
func (a *Admin) FreezeClock(at any) JSON {
	a.t.Helper()
	body := JSON{"frozen": true}
	if at != nil {
		body["set"] = at
	}
	return a.call("POST", "clock", body)
}

// Keys answers {keys: [{id, dialect, owner, spec, state}]}.
func (a *Admin) Keys() JSON { a.t.Helper(); return a.call("GET", "keys", nil) }

// CreateKey makes a key as cmk{} does and answers it.
func (a *Admin) CreateKey(cmk JSON) JSON { a.t.Helper(); return a.call("POST", "keys", cmk) }

// SetKeyState sets a key's state; owner is its Huawei project or Tencent region.
func (a *Admin) SetKeyState(dialect, owner, id, state string) JSON {
	a.t.Helper()
	return a.call("POST", "keys/state", JSON{"dialect": dialect, "owner": owner, "id": id, "state": state})
}

// Metrics answers the Prometheus text.
func (a *Admin) Metrics() string {
	a.t.Helper()
	status, text, err := a.send("GET", "metrics", nil)
	if err != nil || status != 200 {
		a.t.Fatalf("kmsemu admin: GET metrics: %d %s %v", status, text, err)
	}
	return string(text)
}
