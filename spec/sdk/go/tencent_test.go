package cases

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	tcerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"
	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"
	tkms "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/kms/v20190118"
)

type tencentProfile struct {
	SecretID  string `json:"secret_id"`
	SecretKey string `json:"secret_key"`
	Region    string `json:"region"`
}

func connectTencent(url string, raw json.RawMessage, _ routes) (invoker, error) {
	var p tencentProfile
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, err
	}
	cpf := profile.NewClientProfile()
	cpf.HttpProfile.Endpoint = strings.TrimPrefix(url, "http://")
	cpf.HttpProfile.Scheme = "HTTP"
	client, err := tkms.NewClient(common.NewCredential(p.SecretID, p.SecretKey), p.Region, cpf)
	if err != nil {
		return nil, err
	}
	typed := func(op string, request []byte) ([]byte, error) {
		return invokeTencent(client, op, request)
	}
	core := func(op string, request []byte) ([]byte, error) {
		return invokeTencentCore(&client.Client, op, request)
	}
	either := typedOrCore(client, typed, core)
	// A typed request model older than a field the step sends refuses it:
	// the step then goes the generic way, as for an operation the typed
	// client lacks.
	return func(op string, request []byte) ([]byte, string, error) {
		if tencentModelLacksField(client, op, request) {
			resp, err := core(op, request)
			return resp, "core", err
		}
		return either(op, request)
	}, nil
}

// tencentModelLacksField says whether op's typed request model refuses a
// field of request as unknown.
func tencentModelLacksField(client *tkms.Client, op string, request []byte) bool {
	if !reflect.ValueOf(client).MethodByName(op).IsValid() {
		return false
	}
	method, err := apiMethod(client, op)
	if err != nil {
		return false
	}
	req := newTencentRequest(method.Type().In(0).Elem(), op)
	err = req.Interface().(jsonModel).FromJsonString(string(request))
	return err != nil && strings.Contains(err.Error(), "unknown keys")
}

type jsonModel interface {
	FromJsonString(string) error
	ToJsonString() string
}

// invokeTencent fills the XxxRequest that client.Op takes through its own
// FromJsonString, calls it and answers the "Response" of ToJsonString.
func invokeTencent(client *tkms.Client, op string, request []byte) ([]byte, error) {
	method, err := apiMethod(client, op)
	if err != nil {
		return nil, err
	}
	req := newTencentRequest(method.Type().In(0).Elem(), op)
	if err := req.Interface().(jsonModel).FromJsonString(string(request)); err != nil {
		return nil, err
	}
	out := method.Call([]reflect.Value{req})
	if err, _ := out[1].Interface().(error); err != nil {
		return nil, err
	}
	return unwrapResponse([]byte(out[0].Interface().(jsonModel).ToJsonString()))
}

// invokeTencentCore sends op as the common module's generic request, on
// the common.Client the typed client is built on: same credential, region
// and profile, same signer and errors.
func invokeTencentCore(client *common.Client, op string, request []byte) ([]byte, error) {
	req := tchttp.NewCommonRequest("kms", tkms.APIVersion, op)
	if err := req.SetActionParameters(request); err != nil {
		return nil, err
	}
	resp := tchttp.NewCommonResponse()
	if err := client.Send(req, resp); err != nil {
		return nil, err
	}
	return unwrapResponse(resp.GetBody())
}

// unwrapResponse answers the "Response" object that expectations see.
func unwrapResponse(body []byte) ([]byte, error) {
	var wrapped struct{ Response json.RawMessage }
	if err := json.Unmarshal(body, &wrapped); err != nil {
		return nil, err
	}
	return wrapped.Response, nil
}

// newTencentRequest does what the package's NewXxxRequest does, since
// reflection cannot find a package-level function by name.
func newTencentRequest(t reflect.Type, op string) reflect.Value {
	req := reflect.New(t)
	base := &tchttp.BaseRequest{}
	base.Init().WithApiInfo("kms", tkms.APIVersion, op)
	req.Elem().FieldByName("BaseRequest").Set(reflect.ValueOf(base))
	return req
}

func tencentError(err error) (sdkError, bool) {
	var e *tcerr.TencentCloudSDKError
	if !errors.As(err, &e) {
		return sdkError{}, false
	}
	return sdkError{class: fmt.Sprintf("%T", e), code: e.GetCode(), message: e.GetMessage()}, true
}
