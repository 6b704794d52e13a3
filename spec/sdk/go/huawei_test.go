package cases

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/basic"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/sdkerr"
	kms "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/kms/v2"
)

type huaweiProfile struct {
	AK        string `json:"ak"`
	SK        string `json:"sk"`
	ProjectID string `json:"project_id"`
}

func connectHuawei(url string, profile json.RawMessage, r routes) (invoker, error) {
	client, err := huaweiClient(url, profile)
	if err != nil {
		return nil, err
	}
	typed := func(op string, request []byte) ([]byte, error) {
		return invokeHuawei(client, op, request)
	}
	return typedOrCore(client, typed, huaweiCore(client, r)), nil
}

// huaweiClient builds a KmsClient on fixed endpoints: with the project id
// given, the SDK asks IAM for nothing.
func huaweiClient(url string, profile json.RawMessage) (*kms.KmsClient, error) {
	var p huaweiProfile
	if err := json.Unmarshal(profile, &p); err != nil {
		return nil, err
	}
	auth, err := basic.NewCredentialsBuilder().WithAk(p.AK).WithSk(p.SK).WithProjectId(p.ProjectID).SafeBuild()
	if err != nil {
		return nil, err
	}
	hc, err := kms.KmsClientBuilder().WithEndpoints([]string{url}).WithCredential(auth).SafeBuild()
	if err != nil {
		return nil, err
	}
	return kms.NewKmsClient(hc), nil
}

// invokeHuawei fills the model.XxxRequest that client.Op takes from the
// wire-named JSON (path and query fields, the body under "body"), calls it
// and serialises the typed response.
func invokeHuawei(client *kms.KmsClient, op string, request []byte) ([]byte, error) {
	method, err := apiMethod(client, op)
	if err != nil {
		return nil, err
	}
	req := reflect.New(method.Type().In(0).Elem())
	dec := json.NewDecoder(bytes.NewReader(request))
	dec.DisallowUnknownFields()
	if err := dec.Decode(req.Interface()); err != nil {
		return nil, fmt.Errorf("%s cannot hold the request: %w", req.Type().Elem(), err)
	}
	out := method.Call([]reflect.Value{req})
	if err, _ := out[1].Interface().(error); err != nil {
		return nil, err
	}
	return json.Marshal(out[0].Interface())
}

// apiMethod finds client.Op(request) (response, error).
func apiMethod(client any, op string) (reflect.Value, error) {
	method := reflect.ValueOf(client).MethodByName(op)
	if !method.IsValid() {
		return method, fmt.Errorf("%T has no method %s", client, op)
	}
	t := method.Type()
	if t.NumIn() != 1 || t.NumOut() != 2 || t.In(0).Kind() != reflect.Pointer {
		return method, fmt.Errorf("%T.%s is not an API call", client, op)
	}
	return method, nil
}

func huaweiError(err error) (sdkError, bool) {
	var e *sdkerr.ServiceResponseError
	if !errors.As(err, &e) {
		return sdkError{}, false
	}
	return sdkError{
		class:   fmt.Sprintf("%T", e),
		code:    e.ErrorCode,
		status:  e.StatusCode,
		message: e.ErrorMessage,
	}, true
}
