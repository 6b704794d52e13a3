package cases

import (
	"encoding/json"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// lookup follows a dot-separated path of wire names and array indexes.
func lookup(v any, path string) (any, bool) {
	if path == "" {
		return v, true
	}
	for _, part := range strings.Split(path, ".") {
		switch node := v.(type) {
		case map[string]any:
			next, ok := node[part]
			if !ok {
				return nil, false
			}
			v = next
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(node) {
				return nil, false
			}
			v = node[i]
		default:
			return nil, false
		}
	}
	return v, true
}

var matcherKeys = map[string]bool{
	"match": true, "present": true, "len": true, "min": true, "contains": true, "type": true,
}

// holds tells whether the value at a path (found or not) satisfies want,
// which is a matcher object or a literal to compare with.
func holds(want, got any, found bool) bool {
	m, isObject := want.(map[string]any)
	if !isObject || len(m) != 1 {
		return found && equal(want, got)
	}
	for key, arg := range m {
		if !matcherKeys[key] {
			return found && equal(want, got)
		}
		if key == "present" {
			return arg == (found && got != nil)
		}
		return found && matcher(key, arg, got)
	}
	return false
}

func matcher(key string, arg, got any) bool {
	switch key {
	case "match":
		s, ok := got.(string)
		pattern, _ := arg.(string)
		re, err := regexp.Compile(pattern)
		return ok && err == nil && re.MatchString(s)
	case "len":
		n, ok := length(got)
		c, isNumber := compareNumbers(json.Number(strconv.Itoa(n)), arg)
		return ok && isNumber && c == 0
	case "min":
		c, ok := compareNumbers(got, arg)
		return ok && c >= 0
	case "contains":
		items, _ := got.([]any)
		for _, item := range items {
			if equal(arg, item) {
				return true
			}
		}
		return false
	case "type":
		t := jsonType(got)
		return arg == t || arg == "number" && t == "integer"
	}
	return false
}

func length(v any) (int, bool) {
	switch v := v.(type) {
	case string:
		return utf8.RuneCountInString(v), true
	case []any:
		return len(v), true
	}
	return 0, false
}

func jsonType(v any) string {
	switch v := v.(type) {
	case string:
		return "string"
	case bool:
		return "boolean"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	case json.Number:
		if _, err := strconv.ParseInt(string(v), 10, 64); err == nil {
			return "integer"
		}
		return "number"
	}
	return "null"
}

// equal compares decoded JSON deeply, numbers by value.
func equal(a, b any) bool {
	switch a := a.(type) {
	case json.Number:
		c, ok := compareNumbers(a, b)
		return ok && c == 0
	case []any:
		bs, ok := b.([]any)
		if !ok || len(a) != len(bs) {
			return false
		}
		for i := range a {
			if !equal(a[i], bs[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		bm, ok := b.(map[string]any)
		if !ok || len(a) != len(bm) {
			return false
		}
		for k, v := range a {
			w, present := bm[k]
			if !present || !equal(v, w) {
				return false
			}
		}
		return true
	}
	return a == b
}

func compareNumbers(a, b any) (int, bool) {
	x, okA := number(a)
	y, okB := number(b)
	if !okA || !okB {
		return 0, false
	}
	return x.Cmp(y), true
}

func number(v any) (*big.Rat, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return nil, false
	}
	return new(big.Rat).SetString(string(n))
}

// TestMatchers checks that each matcher also rejects what it should.
func TestMatchers(t *testing.T) {
	doc, _ := decodeJSON([]byte(`{"s":"AB12","n":7,"f":1.5,"a":[{"k":"v"},2],"z":null}`))
	for _, c := range []struct {
		path, want string
		holds      bool
	}{
		{"s", `"AB12"`, true}, {"s", `"ab12"`, false},
		{"n", `7.0`, true}, {"n", `8`, false},
		{"s", `{"match":"^[A-F0-9]{4}$"}`, true}, {"s", `{"match":"^[a-f]"}`, false},
		{"z", `{"present":false}`, true}, {"missing", `{"present":false}`, true}, {"n", `{"present":false}`, false},
		{"a", `{"len":2}`, true}, {"s", `{"len":3}`, false},
		{"n", `{"min":7}`, true}, {"n", `{"min":8}`, false},
		{"a", `{"contains":{"k":"v"}}`, true}, {"a", `{"contains":3}`, false},
		{"n", `{"type":"integer"}`, true}, {"f", `{"type":"integer"}`, false}, {"f", `{"type":"number"}`, true}, {"n", `{"type":"number"}`, true},
		{"a.0.k", `"v"`, true}, {"a.2", `{"present":true}`, false}, {"", `{"type":"object"}`, true},
	} {
		want, _ := decodeJSON([]byte(c.want))
		got, found := lookup(doc, c.path)
		if holds(want, got, found) != c.holds {
			t.Errorf("%q against %s: want %v", c.path, c.want, c.holds)
		}
	}
}
