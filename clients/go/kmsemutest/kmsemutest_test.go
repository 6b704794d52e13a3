package kmsemutest_test

import (
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/basic"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/sdkerr"
	hwkms "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/kms/v2"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/kms/v2/model"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	tcerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"
	kms "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/kms/v20190118"

	"kmsemu/clients/go/kmsemutest"
)

// Enabled keys of scenarios/default.lua.
const (
	hwKey = "0d0466b0-e727-4d9c-b35d-f84bb474a37f"
	tcKey = "23e80852-1e38-11e9-b129-5cb9019b4b01"
)

var root, _ = filepath.Abs("../../..")

func tencentCode(err error) string {
	var e *tcerr.TencentCloudSDKError
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

func TestHuaweiSDKSeesOneThrottleThenPasses(t *testing.T) {
	emu := kmsemutest.Start(t, "")
	hw := emu.Credentials.Huawei
	auth := basic.NewCredentialsBuilder().WithAk(hw.AK).WithSk(hw.SK).WithProjectId(hw.ProjectID).Build()
	client := hwkms.NewKmsClient(hwkms.KmsClientBuilder().WithEndpoints([]string{emu.Endpoint}).
		WithCredential(auth).Build())
	length := "256"
	req := &model.CreateDatakeyRequest{Body: &model.CreateDatakeyRequestBody{KeyId: hwKey, DatakeyLength: &length}}
	if key, err := client.CreateDatakey(req); err != nil || len(*key.PlainText) != 64 {
		t.Fatalf("CreateDatakey: %v", err)
	}
	emu.Admin.AddFault(kmsemutest.JSON{"dialect": "huawei", "action": "create-datakey", "times": 1, "error": "throttled"})
	var e *sdkerr.ServiceResponseError
	if _, err := client.CreateDatakey(req); !errors.As(err, &e) || e.StatusCode != 429 || e.ErrorCode != "APIGW.0308" {
		t.Fatalf("CreateDatakey under the throttle answered %v", err)
	}
	if _, err := client.CreateDatakey(req); err != nil {
		t.Fatalf("CreateDatakey after the throttle: %v", err)
	}
	var statuses []any
	for _, e := range emu.Admin.Journal(kmsemutest.JSON{"action": "generate_data_key"})["entries"].([]any) {
		statuses = append(statuses, e.(kmsemutest.JSON)["status"])
	}
	if want := []any{200.0, 429.0, 200.0}; !reflect.DeepEqual(statuses, want) {
		t.Fatalf("journal statuses %v, want %v", statuses, want)
	}
}

func TestARemovedFaultStopsFiring(t *testing.T) {
	emu := kmsemutest.Start(t, "")
	client := emu.TencentClient()
	id := emu.Admin.AddFault(kmsemutest.JSON{"dialect": "tencent", "action": "GenerateDataKey", "error": "InternalError"})["id"].(string)
	if faults := emu.Admin.Faults()["faults"].([]any); len(faults) != 1 || faults[0].(kmsemutest.JSON)["id"] != id {
		t.Fatalf("faults: %v", faults)
	}
	req := kms.NewGenerateDataKeyRequest()
	req.KeyId, req.KeySpec = common.StringPtr(tcKey), common.StringPtr("AES_256")
	if _, err := client.GenerateDataKey(req); tencentCode(err) != "InternalError" {
		t.Fatalf("GenerateDataKey under the fault answered %v", err)
	}
	emu.Admin.RemoveFault(id)
	key, err := client.GenerateDataKey(req)
	if err != nil {
		t.Fatal(err)
	}
	if plain, _ := base64.StdEncoding.DecodeString(*key.Response.Plaintext); len(plain) != 32 {
		t.Fatalf("a data key of %d bytes", len(plain))
	}
}

func TestAFaultSwitchedOffAndOn(t *testing.T) {
	emu := kmsemutest.Start(t, "")
	client := emu.TencentClient()
	id := emu.Admin.AddFault(kmsemutest.JSON{"dialect": "tencent", "action": "GenerateDataKey", "error": "InternalError"})["id"].(string)
	req := kms.NewGenerateDataKeyRequest()
	req.KeyId, req.KeySpec = common.StringPtr(tcKey), common.StringPtr("AES_256")
	if got := emu.Admin.SwitchFault(id, false); got["id"] != id || got["on"] != false {
		t.Fatalf("switched off: %v", got)
	}
	if _, err := client.GenerateDataKey(req); err != nil {
		t.Fatalf("GenerateDataKey with the fault off: %v", err)
	}
	emu.Admin.SwitchFault(id, true)
	if _, err := client.GenerateDataKey(req); tencentCode(err) != "InternalError" {
		t.Fatalf("GenerateDataKey with the fault on again answered %v", err)
	}
	if status, _, err := emu.Admin.Do("POST", "faults/no-such-fault/on", nil); err != nil || status != 404 {
		t.Fatalf("switching an unknown fault: %d %v", status, err)
	}
}

func TestKeysAndClockThroughTheAdminClient(t *testing.T) {
	emu := kmsemutest.Start(t, "")
	client := emu.TencentClient()
	emu.Admin.FreezeClock("2026-01-01T00:00:00Z")
	key := emu.Admin.CreateKey(kmsemutest.JSON{"dialect": "tencent", "spec": "AES_256", "alias": "made-by-admin"})
	id := key["id"].(string)
	describe := kms.NewDescribeKeyRequest()
	describe.KeyId = &id
	described, err := client.DescribeKey(describe)
	if err != nil || *described.Response.KeyMetadata.CreateTime != 1767225600 {
		t.Fatalf("DescribeKey: %v", err)
	}
	if now := emu.Admin.AdvanceClock(86400)["now"]; now != 1767225600.0+86400 {
		t.Fatalf("the clock after advancing a day: %v", now)
	}
	emu.Admin.SetKeyState("tencent", key["owner"].(string), id, "disabled")
	encrypt := kms.NewEncryptRequest()
	encrypt.KeyId, encrypt.Plaintext = &id, common.StringPtr("aGk=")
	if _, err := client.Encrypt(encrypt); tencentCode(err) != "ResourceUnavailable.CmkDisabled" {
		t.Fatalf("Encrypt on the disabled key answered %v", err)
	}
}

func TestAdminRefusalsCarryStatusAndReason(t *testing.T) {
	emu := kmsemutest.Start(t, "")
	status, answer, err := emu.Admin.Do("POST", "faults", kmsemutest.JSON{"action": "Encrypt", "error": "NoSuchCode.Anywhere"})
	if err != nil || status != 400 || !strings.Contains(answer["error"].(string), "NoSuchCode.Anywhere") {
		t.Fatalf("POST faults with an unknown code: %d %v %v", status, answer, err)
	}
}

func TestTheScenarioIsTheOneGiven(t *testing.T) {
	emu := kmsemutest.Start(t, filepath.Join(root, "scenarios", "tencent.lua"))
	if path := emu.Admin.Scenario()["path"].(string); !strings.HasSuffix(path, "scenarios/tencent.lua") {
		t.Fatalf("scenario %s", path)
	}
	if emu.Credentials.Huawei != nil {
		t.Fatalf("Huawei credentials from a Tencent-only scenario: %+v", emu.Credentials.Huawei)
	}
	status, err := emu.TencentClient().GetServiceStatus(kms.NewGetServiceStatusRequest())
	if err != nil || !*status.Response.ServiceEnabled {
		t.Fatalf("GetServiceStatus: %v", err)
	}
}

func TestCredentialsAreTheScenariosOwn(t *testing.T) {
	scenario := filepath.Join(t.TempDir(), "own.lua")
	os.WriteFile(scenario, []byte(`credentials { tencent = { secret_id = "AKIDownCREDENTIALS00000000000000000000",
  secret_key = "ownSECRETkey0000000000000000000000", region = "ap-shanghai" } }
cmk { id = "11111111-2222-4333-8444-555555555555", dialect = "tencent" }
`), 0o644)
	emu := kmsemutest.Start(t, scenario)
	want := kmsemutest.TencentCredentials{SecretID: "AKIDownCREDENTIALS00000000000000000000",
		SecretKey: "ownSECRETkey0000000000000000000000", Region: "ap-shanghai"}
	if emu.Credentials.Huawei != nil || *emu.Credentials.Tencent != want {
		t.Fatalf("credentials %+v", emu.Credentials)
	}
	req := kms.NewDescribeKeyRequest()
	req.KeyId = common.StringPtr("11111111-2222-4333-8444-555555555555")
	if res, err := emu.TencentClient().DescribeKey(req); err != nil || *res.Response.KeyMetadata.KeyState != "Enabled" {
		t.Fatalf("DescribeKey: %v", err)
	}
}

func TestNoTencentClientWithoutTencentCredentials(t *testing.T) {
	failures := (&recorder{TB: t}).run(func(tb testing.TB) {
		kmsemutest.Start(tb, filepath.Join(root, "scenarios", "huawei.lua")).TencentClient()
	})
	if len(failures) != 1 || failures[0] != "kmsemutest: the scenario gives no Tencent credentials" {
		t.Fatalf("failures %q", failures)
	}
}

// recorder stands in for the test where Start's failures are the subject:
// it keeps what would have failed the test and the cleanups.
type recorder struct {
	testing.TB
	failures []string
	cleanups []func()
}

func (r *recorder) Helper()          {}
func (r *recorder) Cleanup(f func()) { r.cleanups = append(r.cleanups, f) }
func (r *recorder) Error(args ...any) {
	r.failures = append(r.failures, strings.TrimSpace(fmt.Sprintln(args...)))
}
func (r *recorder) Fatal(args ...any)         { r.Error(args...); runtime.Goexit() }
func (r *recorder) Fatalf(f string, a ...any) { r.Error(fmt.Sprintf(f, a...)); runtime.Goexit() }

// run calls f on the recorder in a goroutine of its own (Fatal ends it),
// then the cleanups, and answers the failures.
func (r *recorder) run(f func(testing.TB)) []string {
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(r)
	}()
	<-done
	for i := len(r.cleanups) - 1; i >= 0; i-- {
		r.cleanups[i]()
	}
	return r.failures
}

func TestAScenarioThatDoesNotLoadFailsStartWithItsMessage(t *testing.T) {
	scenario := filepath.Join(t.TempDir(), "broken.lua")
	os.WriteFile(scenario, []byte(`cmk { id = "not-a-key-id", dialect = "tencent" }`+"\n"), 0o644)
	failures := (&recorder{TB: t}).run(func(tb testing.TB) { kmsemutest.Start(tb, scenario) })
	if len(failures) != 1 || !strings.Contains(failures[0], "exit status 2; stderr:\n") ||
		!strings.Contains(failures[0], "broken.lua:1: ") {
		t.Fatalf("failures %q", failures)
	}
}

const fakeKmsemu = `#!/bin/sh
trap 'echo "kmsemu: could not flush" >&2; exit 3' TERM
echo "kmsemu listening on http://127.0.0.1:9"
echo "  0 keys from fake"
while :; do sleep 0.1; done
`

func TestAKmsemuThatStopsBadlyFailsTheTest(t *testing.T) {
	fake := filepath.Join(t.TempDir(), "fake-kmsemu")
	os.WriteFile(fake, []byte(fakeKmsemu), 0o755)
	t.Setenv("KMSEMU_BIN", fake)
	var endpoint string
	failures := (&recorder{TB: t}).run(func(tb testing.TB) { endpoint = kmsemutest.Start(tb, "").Endpoint })
	if endpoint != "http://127.0.0.1:9" || len(failures) != 1 ||
		!strings.Contains(failures[0], "did not stop cleanly") || !strings.Contains(failures[0], "exit status 3") ||
		!strings.Contains(failures[0], "kmsemu: could not flush") {
		t.Fatalf("endpoint %s, failures %q", endpoint, failures)
	}
}

func TestTheBinaryIsKmsemuBinThenPathThenTheCheckout(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	t.Setenv("KMSEMU_BIN", "somewhere/kmsemu")
	if bin, _ := kmsemutest.Binary(); bin != filepath.Join(dir, "somewhere", "kmsemu") {
		t.Fatalf("with KMSEMU_BIN: %s", bin)
	}
	t.Setenv("KMSEMU_BIN", "")
	os.WriteFile(filepath.Join(dir, "kmsemu"), []byte(fakeKmsemu), 0o755)
	t.Setenv("PATH", dir)
	if bin, _ := kmsemutest.Binary(); bin != filepath.Join(dir, "kmsemu") {
		t.Fatalf("with kmsemu on PATH: %s", bin)
	}
	t.Setenv("PATH", filepath.Join(dir, "empty"))
	if bin, _ := kmsemutest.Binary(); bin != filepath.Join(root, "build", "kmsemu") {
		t.Fatalf("in the checkout: %s", bin)
	}
}
