// Package kmsemutest runs kmsemu, the local Huawei Cloud and Tencent Cloud
// KMS emulator, for a test: on a free loopback port, with a given
// scenario, stopped with SIGTERM through t.Cleanup. A kmsemu that does not
// exit with status 0 fails the test, with its stderr.
//
//	emu := kmsemutest.Start(t, "") // the binary's default scenario
//	emu.Endpoint, emu.Credentials.Tencent.SecretID, emu.Admin.AddFault(...), emu.TencentClient()
package kmsemutest

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"
	kms "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/kms/v20190118"
)

const (
	startTimeout = 15 * time.Second
	stopTimeout  = 10 * time.Second
)

// The start-up banner: the ready line, one line per configured dialect
// with its credentials, then the key count, written at once.
var (
	readyLine   = regexp.MustCompile(`(?m)^kmsemu listening on (https?://(\S+))$`)
	huaweiLine  = regexp.MustCompile(`(?m)^  huawei +\S+/v1\.0/(\S+)/kms/\.\.\.  AK (\S+)  SK (\S+)$`)
	tencentLine = regexp.MustCompile(`(?m)^  tencent +\S+/  region (\S+)  SecretId (\S+)  SecretKey (\S+)$`)
	bannerEnd   = regexp.MustCompile(`(?m)^  \d+ keys from `)
)

// HuaweiCredentials are a scenario's Huawei AK/SK; ProjectID is empty when
// the scenario names no project.
type HuaweiCredentials struct {
	AK, SK, ProjectID string
}

// TencentCredentials are a scenario's Tencent SecretId/SecretKey.
type TencentCredentials struct {
	SecretID, SecretKey, Region string
}

// Credentials of the scenario kmsemu loaded; nil for a dialect it leaves out.
type Credentials struct {
	Huawei  *HuaweiCredentials
	Tencent *TencentCredentials
}

// Kmsemu is one running kmsemu.
type Kmsemu struct {
	Endpoint    string // "http://127.0.0.1:PORT"
	Host        string // "127.0.0.1:PORT": Tencent SDKs take the endpoint without its scheme
	Credentials Credentials
	Admin       *Admin

	t      testing.TB
	argv   []string
	cmd    *exec.Cmd
	stderr *syncBuffer
	exited chan error
}

// syncBuffer collects a child's output while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// bannerWriter sends stdout's text once the whole banner has arrived.
type bannerWriter struct {
	syncBuffer
	banner chan string
	seen   bool
}

func (w *bannerWriter) Write(p []byte) (int, error) {
	n, err := w.syncBuffer.Write(p)
	if out := w.String(); !w.seen && readyLine.MatchString(out) && bannerEnd.MatchString(out) {
		w.seen = true
		w.banner <- out
	}
	return n, err
}

// Start runs kmsemu with the scenario file (relative to the test's
// directory; "" for the binary's default, scenarios/default.lua) and extra
// command-line args, waits until it listens, and stops it when the test
// ends. The binary is Binary()'s.
func Start(t testing.TB, scenario string, args ...string) *Kmsemu {
	t.Helper()
	bin, err := Binary()
	if err != nil {
		t.Fatal(err)
	}
	argv := []string{bin, "--listen", "127.0.0.1:0"}
	if scenario != "" {
		argv = append(argv, "--scenario", scenario)
	}
	k, err := start(append(argv, args...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := k.stop(); err != nil {
			t.Error(err)
		}
	})
	k.t = t
	k.Admin = &Admin{t: t, base: k.Endpoint + "/_kmsemu/"}
	return k
}

// TencentClient is the Tencent SDK's KMS client (API 2019-01-18) for this
// kmsemu: its Host over HTTP, the scenario's Tencent credentials and
// region. It fails the test if the scenario gives no Tencent credentials.
func (k *Kmsemu) TencentClient() *kms.Client {
	k.t.Helper()
	tc := k.Credentials.Tencent
	if tc == nil {
		k.t.Fatal("kmsemutest: the scenario gives no Tencent credentials")
	}
	cpf := profile.NewClientProfile()
	cpf.HttpProfile.Endpoint, cpf.HttpProfile.Scheme = k.Host, "HTTP"
	client, err := kms.NewClient(common.NewCredential(tc.SecretID, tc.SecretKey), tc.Region, cpf)
	if err != nil {
		k.t.Fatal(err)
	}
	return client
}

func start(argv []string) (*Kmsemu, error) {
	stdout := &bannerWriter{banner: make(chan string, 1)}
	k := &Kmsemu{argv: argv, stderr: &syncBuffer{}, exited: make(chan error, 1)}
	k.cmd = exec.Command(argv[0], argv[1:]...)
	k.cmd.Stdout = stdout
	k.cmd.Stderr = k.stderr
	// Wait returns once kmsemu has exited, even if a process it started (a
	// wrapper script's child) still holds its output.
	k.cmd.WaitDelay = time.Second
	if err := k.cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s could not be run: %w", argv[0], err)
	}
	go func() { k.exited <- k.cmd.Wait() }()
	select {
	case banner := <-stdout.banner:
		k.parse(banner)
		return k, nil
	case err := <-k.exited:
		return nil, fmt.Errorf("kmsemu ended before it was ready: %s", k.how(err))
	case <-time.After(startTimeout):
		k.cmd.Process.Kill()
		return nil, fmt.Errorf("kmsemu printed no start-up banner within %v; stdout:\n%s\n%s",
			startTimeout, stdout.String(), k.how(<-k.exited))
	}
}

func (k *Kmsemu) parse(banner string) {
	ready := readyLine.FindStringSubmatch(banner)
	k.Endpoint, k.Host = ready[1], ready[2]
	if m := huaweiLine.FindStringSubmatch(banner); m != nil {
		k.Credentials.Huawei = &HuaweiCredentials{AK: m[2], SK: m[3], ProjectID: m[1]}
		if m[1] == "{project_id}" {
			k.Credentials.Huawei.ProjectID = ""
		}
	}
	if m := tencentLine.FindStringSubmatch(banner); m != nil {
		k.Credentials.Tencent = &TencentCredentials{SecretID: m[2], SecretKey: m[3], Region: m[1]}
	}
}

// how says how the process ended (err from Wait), with its stderr.
func (k *Kmsemu) how(err error) string {
	status := "exited with status 0"
	if err != nil {
		status = err.Error()
	}
	return fmt.Sprintf("%s %s; stderr:\n%s", strings.Join(k.argv, " "), status, k.stderr)
}

// stop sends SIGTERM and answers an error unless kmsemu exits with status 0.
func (k *Kmsemu) stop() error {
	if err := k.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("kmsemu could not be signalled: %v; %s", err, k.how(nil))
	}
	select {
	case err := <-k.exited:
		if err != nil {
			return fmt.Errorf("kmsemu did not stop cleanly: %s", k.how(err))
		}
		return nil
	case <-time.After(stopTimeout):
		k.cmd.Process.Kill()
		return fmt.Errorf("kmsemu did not stop within %v of SIGTERM: %s", stopTimeout, k.how(<-k.exited))
	}
}

// Binary finds kmsemu: $KMSEMU_BIN, else kmsemu on PATH, else build/kmsemu
// of the kmsemu checkout holding the current directory or this package's
// source.
func Binary() (string, error) {
	if bin := os.Getenv("KMSEMU_BIN"); bin != "" {
		return filepath.Abs(bin)
	}
	if bin, err := exec.LookPath("kmsemu"); err == nil {
		return filepath.Abs(bin)
	}
	cwd, _ := os.Getwd()
	_, source, _, _ := runtime.Caller(0)
	for _, dir := range []string{cwd, filepath.Dir(source)} {
		if bin := checkoutBinary(dir); bin != "" {
			return bin, nil
		}
	}
	return "", errors.New("no kmsemu binary: set KMSEMU_BIN, put kmsemu on PATH, " +
		"or run inside a kmsemu checkout after make")
}

func checkoutBinary(dir string) string {
	for dir != "" {
		bin := filepath.Join(dir, "build", "kmsemu")
		_, lua := os.Stat(filepath.Join(dir, "lua", "kmsemu", "init.lua"))
		if st, err := os.Stat(bin); lua == nil && err == nil && st.Mode()&0o111 != 0 {
			return bin
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	return ""
}
