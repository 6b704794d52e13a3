package kmsemutest_test

import (
	"errors"
	"os"
	"regexp"
	"testing"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	tcerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"
	kms "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/kms/v20190118"

	"kmsemu/clients/go/kmsemutest"
)

// The example README shows under "Using kmsemu from a test suite".
// example:start
func TestEncryptSeesTheInjectedFault(t *testing.T) {
	emu := kmsemutest.Start(t, "") // the default scenario; stopped by t.Cleanup
	cpf := profile.NewClientProfile()
	cpf.HttpProfile.Endpoint, cpf.HttpProfile.Scheme = emu.Host, "HTTP"
	tc := emu.Credentials.Tencent
	client, _ := kms.NewClient(common.NewCredential(tc.SecretID, tc.SecretKey), tc.Region, cpf)
	req := kms.NewEncryptRequest()
	req.KeyId, req.Plaintext = common.StringPtr("23e80852-1e38-11e9-b129-5cb9019b4b01"), common.StringPtr("aGk=")
	if _, err := client.Encrypt(req); err != nil {
		t.Fatal(err)
	}
	fault := emu.Admin.AddFault(kmsemutest.JSON{"action": "Encrypt", "error": "ResourceUnavailable.CmkDisabled"})
	var sdkErr *tcerr.TencentCloudSDKError
	if _, err := client.Encrypt(req); !errors.As(err, &sdkErr) || sdkErr.Code != "ResourceUnavailable.CmkDisabled" {
		t.Fatalf("Encrypt answered %v", err)
	}
	if n := emu.Admin.JournalCount(kmsemutest.JSON{"fault": fault["id"]})["count"]; n != 1.0 {
		t.Fatalf("the journal holds %v calls the fault answered", n)
	}
}

// example:end

func TestReadmeShowsThisExample(t *testing.T) {
	source, err := os.ReadFile("example_test.go")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("../../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	region := regexp.MustCompile(`(?s)// example:start\n(.*?)\n// example:end\n`).FindSubmatch(source)
	shown := regexp.MustCompile("(?s)<!-- example: clients/go/kmsemutest/example_test.go -->\n```go\n(.*?)```").FindSubmatch(readme)
	if shown == nil || string(shown[1]) != string(region[1]) {
		t.Fatalf("README's example is not example_test.go's:\n%s", region[1])
	}
}
