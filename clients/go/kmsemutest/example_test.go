package kmsemutest_test

import (
	"os"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	kms "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/kms/v20190118"

	"kmsemu/clients/go/kmsemutest"
)

// The example README shows under "Using kmsemu from a test suite".
// example:start
func TestEncryptSeesTheInjectedFault(t *testing.T) {
	emu := kmsemutest.Start(t, "") // the default scenario; stopped by t.Cleanup
	client := emu.TencentClient()  // the SDK's kms.Client, pointed at emu
	req := kms.NewEncryptRequest()
	req.KeyId, req.Plaintext = common.StringPtr("23e80852-1e38-11e9-b129-5cb9019b4b01"), common.StringPtr("aGk=")
	_, err := client.Encrypt(req)
	require.NoError(t, err)
	fault := emu.Admin.AddFault(kmsemutest.JSON{"action": "Encrypt", "error": "ResourceUnavailable.CmkDisabled"})
	_, err = client.Encrypt(req)
	require.ErrorContains(t, err, "Code=ResourceUnavailable.CmkDisabled")
	require.EqualValues(t, 1, emu.Admin.JournalCount(kmsemutest.JSON{"fault": fault["id"]})["count"])
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
