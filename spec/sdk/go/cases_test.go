// Package cases runs spec/sdk/cases.json through the official Go SDKs of
// Huawei Cloud KMS and Tencent Cloud KMS against kmsemu (see CASES.md).
package cases

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type caseFile struct {
	HuaweiRoutes routes                                `json:"huawei_routes"`
	Credentials  map[string]map[string]json.RawMessage `json:"credentials"`
	Suites       []suite                               `json:"suites"`
}

type suite struct {
	Name     string     `json:"name"`
	Dialect  string     `json:"dialect"`
	Scenario string     `json:"scenario"`
	Cases    []testCase `json:"cases"`
}

type testCase struct {
	Name  string `json:"name"`
	Steps []step `json:"steps"`
}

type step struct {
	Op      string            `json:"op"`
	As      string            `json:"as"`
	Request any               `json:"request"`
	Expect  map[string]any    `json:"expect"`
	Error   *errorExpect      `json:"error"`
	Save    map[string]string `json:"save"`
}

type errorExpect struct {
	Code    string  `json:"code"`
	Status  int     `json:"status"`
	Message *string `json:"message"`
}

type stepResult struct {
	Suite   string  `json:"suite"`
	Case    string  `json:"case"`
	Dialect string  `json:"dialect"`
	Op      string  `json:"op"`
	OK      bool    `json:"ok"`
	Error   *string `json:"error"`
	Via     string  `json:"via,omitempty"`
}

// The repository root, from this package's directory spec/sdk/go.
var root = mustAbs("../../..")

var results []stepResult

func mustAbs(p string) string {
	abs, err := filepath.Abs(p)
	if err != nil {
		panic(err)
	}
	return abs
}

// fromRoot resolves a path given relative to the repository root.
func fromRoot(p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(root, p)
}

func envOr(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}

func TestMain(m *testing.M) {
	code := m.Run()
	if err := writeResults(); err != nil {
		fmt.Fprintln(os.Stderr, "writing results:", err)
		code = 1
	}
	os.Exit(code)
}

func loadCases() (*caseFile, error) {
	raw, err := os.ReadFile(filepath.Join(root, "spec/sdk/cases.json"))
	if err != nil {
		return nil, err
	}
	var cf caseFile
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	return &cf, dec.Decode(&cf)
}

func TestCases(t *testing.T) {
	cf, err := loadCases()
	if err != nil {
		t.Fatalf("reading cases.json: %v", err)
	}
	for _, s := range cf.Suites {
		d, ok := dialects[s.Dialect]
		if !ok {
			t.Errorf("suite %s: unknown dialect %q", s.Name, s.Dialect)
			continue
		}
		runSuite(t, s, connections{dialect: d, creds: cf.Credentials[s.Dialect], routes: cf.HuaweiRoutes})
	}
}

// runSuite runs a suite's cases on one server, with clients made by conns.
func runSuite(t *testing.T, s suite, conns connections) {
	srv, startErr := startServer(fromRoot(envOr("KMSEMU_BIN", "build/kmsemu")), s.Scenario)
	if srv != nil {
		conns.url = srv.url
	}
	for _, c := range s.Cases {
		t.Run(s.Name+"/"+c.Name, func(t *testing.T) {
			if startErr != nil {
				failUnstarted(t, s, c, startErr)
				return
			}
			runCase(t, s, c, &conns)
		})
	}
	if srv != nil {
		if err := srv.stop(); err != nil {
			t.Errorf("suite %s: %v", s.Name, err)
		}
	}
}

// failUnstarted records every step of a case whose server never came up.
func failUnstarted(t *testing.T, s suite, c testCase, err error) {
	msg := fmt.Sprintf("kmsemu did not start: %v", err)
	for _, st := range c.Steps {
		record(s, c, st, msg, "")
	}
	t.Errorf("suite %s, case %q: %s", s.Name, c.Name, msg)
}

func runCase(t *testing.T, s suite, c testCase, conns *connections) {
	vars := map[string]any{}
	for i, st := range c.Steps {
		problem, via := runStep(conns, st, vars)
		record(s, c, st, problem, via)
		if problem != "" {
			t.Fatalf("suite %s, case %q, step %d (%s): %s", s.Name, c.Name, i, st.Op, problem)
		}
	}
}

func record(s suite, c testCase, st step, problem, via string) {
	r := stepResult{Suite: s.Name, Case: c.Name, Dialect: s.Dialect, Op: st.Op, OK: problem == "", Via: via}
	if problem != "" {
		r.Error = &problem
	}
	results = append(results, r)
}

func writeResults() error {
	dir := fromRoot(envOr("KMSEMU_SDK_RESULTS", "build/spec/sdk-results"))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	steps := results
	if steps == nil {
		steps = []stepResult{}
	}
	out, err := json.MarshalIndent(map[string]any{
		"language": "go",
		"sdks":     sdkVersions(),
		"steps":    steps,
	}, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "go.json"), append(out, '\n'), 0o644)
}

// sdkVersions reads the SDK versions pinned in go.mod: a test binary
// carries no module versions of its own.
func sdkVersions() map[string]string {
	names := map[string]string{
		"github.com/huaweicloud/huaweicloud-sdk-go-v3":                 "huawei",
		"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/kms": "tencent",
	}
	v := map[string]string{}
	raw, err := os.ReadFile("go.mod")
	if err != nil {
		return v
	}
	for _, line := range strings.Split(string(raw), "\n") {
		f := strings.Fields(strings.TrimPrefix(line, "require "))
		if len(f) >= 2 && names[f[0]] != "" {
			v[names[f[0]]] = strings.TrimPrefix(f[0], "github.com/") + " " + f[1]
		}
	}
	return v
}
