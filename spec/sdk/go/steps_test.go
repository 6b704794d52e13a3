package cases

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"strings"
)

// An invoker calls the client method named op with a request given in
// wire names and answers the typed response serialised back to JSON, and
// via "core" when the SDK's generic path carried it instead (CASES.md).
type invoker func(op string, request []byte) (response []byte, via string, err error)

// A call is one way of sending op: the typed client's or the generic one.
type call func(op string, request []byte) ([]byte, error)

// typedOrCore takes the typed call when client has a method op, as the SDK
// release defines only the operations it knew of.
func typedOrCore(client any, typed, core call) invoker {
	return func(op string, request []byte) ([]byte, string, error) {
		if reflect.ValueOf(client).MethodByName(op).IsValid() {
			resp, err := typed(op, request)
			return resp, "", err
		}
		resp, err := core(op, request)
		return resp, "core", err
	}
}

// sdkError is what a step's "error" is checked against: the fields of the
// SDK's own exception.
type sdkError struct {
	class, code, message string
	status               int
}

// routes maps an operation to its method and path, for the Huawei core path.
type routes map[string][2]string

type dialect struct {
	connect func(url string, profile json.RawMessage, r routes) (invoker, error)
	asError func(error) (sdkError, bool)
}

var dialects = map[string]dialect{
	"huawei":  {connect: connectHuawei, asError: huaweiError},
	"tencent": {connect: connectTencent, asError: tencentError},
}

// connections holds one client per credential profile for a suite's server.
type connections struct {
	dialect dialect
	url     string
	creds   map[string]json.RawMessage
	routes  routes
	open    map[string]invoker
}

func (c *connections) get(profile string) (invoker, error) {
	if profile == "" {
		profile = "default"
	}
	if send, ok := c.open[profile]; ok {
		return send, nil
	}
	cred, ok := c.creds[profile]
	if !ok {
		return nil, fmt.Errorf("no credential profile %q", profile)
	}
	send, err := c.dialect.connect(c.url, cred, c.routes)
	if err != nil {
		return nil, fmt.Errorf("building the client for %q: %w", profile, err)
	}
	if c.open == nil {
		c.open = map[string]invoker{}
	}
	c.open[profile] = send
	return send, nil
}

// runStep runs one step and answers what went wrong, or "" when it passed,
// and the path it took.
func runStep(conns *connections, st step, vars map[string]any) (problem, via string) {
	send, err := conns.get(st.As)
	if err != nil {
		return err.Error(), ""
	}
	request, err := resolve(st.Request, vars, true)
	if err != nil {
		return "building the request: " + err.Error(), ""
	}
	wire, err := json.Marshal(request)
	if err != nil {
		return "building the request: " + err.Error(), ""
	}
	resp, via, callErr := sendSafely(send, st.Op, wire)
	return checkStep(conns.dialect, st, resp, callErr, vars), via
}

func checkStep(d dialect, st step, resp []byte, callErr error, vars map[string]any) string {
	if st.Error != nil {
		return checkError(d, *st.Error, resp, callErr)
	}
	if callErr != nil {
		return "expected success, got " + describe(d, callErr)
	}
	got, err := decodeJSON(resp)
	if err != nil {
		return fmt.Sprintf("response is not JSON (%v): %s", err, resp)
	}
	if problem := checkExpect(st.Expect, got, vars); problem != "" {
		return problem + "; response " + string(resp)
	}
	return save(st.Save, got, vars)
}

// sendSafely turns a panic inside an SDK into the step's failure, so the
// other cases still run and the results file is still written.
func sendSafely(send invoker, op string, request []byte) (resp []byte, via string, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("the SDK panicked: %v", p)
		}
	}()
	return send(op, request)
}

func decodeJSON(raw []byte) (any, error) {
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	return v, dec.Decode(&v)
}

func checkError(d dialect, want errorExpect, resp []byte, err error) string {
	wanted := fmt.Sprintf("error code=%s", want.Code)
	if want.Status != 0 {
		wanted += fmt.Sprintf(" status=%d", want.Status)
	}
	if want.Message != nil {
		wanted += fmt.Sprintf(" message=%q", *want.Message)
	}
	if err == nil {
		return fmt.Sprintf("expected %s, got success: %s", wanted, resp)
	}
	e, ok := d.asError(err)
	if !ok || e.code != want.Code ||
		(want.Status != 0 && e.status != want.Status) ||
		(want.Message != nil && e.message != *want.Message) {
		return fmt.Sprintf("expected %s, got %s", wanted, describe(d, err))
	}
	return ""
}

func describe(d dialect, err error) string {
	if e, ok := d.asError(err); ok {
		return fmt.Sprintf("%s code=%s status=%d message=%q", e.class, e.code, e.status, e.message)
	}
	return fmt.Sprintf("%T: %v", err, err)
}

func checkExpect(expect map[string]any, got any, vars map[string]any) string {
	for path, matcher := range expect {
		want, err := resolve(matcher, vars, false)
		if err != nil {
			return fmt.Sprintf("expect %q: %v", path, err)
		}
		value, found := lookup(got, path)
		if !holds(want, value, found) {
			return fmt.Sprintf("at %q expected %s, got %s", path, toJSON(want), shown(value, found))
		}
	}
	return ""
}

func save(names map[string]string, got any, vars map[string]any) string {
	for name, path := range names {
		value, found := lookup(got, path)
		if !found {
			return fmt.Sprintf("save %s: nothing at %q", name, path)
		}
		vars[name] = value
	}
	return ""
}

var varRef = regexp.MustCompile(`\$\{([A-Za-z0-9_]+)\}`)

// resolve replaces ${NAME} references in v and, in requests, computes the
// {"$transform": ...} objects.
func resolve(v any, vars map[string]any, transforms bool) (any, error) {
	switch v := v.(type) {
	case string:
		return substitute(v, vars)
	case []any:
		out := make([]any, len(v))
		for i, item := range v {
			r, err := resolve(item, vars, transforms)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, item := range v {
			r, err := resolve(item, vars, transforms)
			if err != nil {
				return nil, err
			}
			out[k] = r
		}
		if name, arg, ok := transformOf(out); ok && transforms {
			return applyTransform(name, arg)
		}
		return out, nil
	}
	return v, nil
}

func substitute(s string, vars map[string]any) (any, error) {
	if m := varRef.FindStringSubmatch(s); m != nil && m[0] == s {
		value, ok := vars[m[1]]
		if !ok {
			return nil, fmt.Errorf("variable %s is not set", m[1])
		}
		return value, nil
	}
	var missing string
	out := varRef.ReplaceAllStringFunc(s, func(ref string) string {
		name := varRef.FindStringSubmatch(ref)[1]
		value, ok := vars[name]
		if !ok {
			missing = name
			return ref
		}
		if text, isString := value.(string); isString {
			return text
		}
		return toJSON(value)
	})
	if missing != "" {
		return nil, fmt.Errorf("variable %s is not set", missing)
	}
	return out, nil
}

func transformOf(m map[string]any) (string, any, bool) {
	if len(m) != 1 {
		return "", nil, false
	}
	for k, v := range m {
		if strings.HasPrefix(k, "$") {
			return k, v, true
		}
	}
	return "", nil, false
}

func applyTransform(name string, arg any) (any, error) {
	switch name {
	case "$rsa_oaep":
		return rsaOAEP(arg)
	}
	return nil, fmt.Errorf("unknown transform %s", name)
}

func toJSON(v any) string {
	out, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%v", v)
	}
	return string(out)
}

func shown(v any, found bool) string {
	if !found {
		return "nothing"
	}
	return toJSON(v)
}
