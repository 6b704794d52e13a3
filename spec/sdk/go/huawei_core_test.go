package cases

// The Huawei core path: what a step takes when the typed KmsClient of the
// pinned release lacks its operation (CASES.md, "What a runner reports").

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/def"
	kms "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/kms/v2"
)

// connectHuaweiCore sends every operation through the core path.
func connectHuaweiCore(url string, profile json.RawMessage, r routes) (invoker, error) {
	client, err := huaweiClient(url, profile)
	if err != nil {
		return nil, err
	}
	send := huaweiCore(client, r)
	return func(op string, request []byte) ([]byte, string, error) {
		resp, err := send(op, request)
		return resp, "core", err
	}, nil
}

// TestHuaweiCore runs the Huawei suites again through the core path alone,
// which no step takes while the typed client has every operation. Its
// steps stay out of the results file.
func TestHuaweiCore(t *testing.T) {
	cf, err := loadCases()
	if err != nil {
		t.Fatalf("reading cases.json: %v", err)
	}
	defer func(kept []stepResult) { results = kept }(results)
	d := dialect{connect: connectHuaweiCore, asError: huaweiError}
	for _, s := range cf.Suites {
		if s.Dialect == "huawei" {
			runSuite(t, s, connections{dialect: d, creds: cf.Credentials[s.Dialect], routes: cf.HuaweiRoutes})
		}
	}
}

func huaweiCore(client *kms.KmsClient, r routes) call {
	return func(op string, request []byte) ([]byte, error) {
		return invokeHuaweiCore(client.HcClient, r, op, request)
	}
}

// invokeHuaweiCore sends op through the core HcHttpClient alone, with a
// request definition made from its route: fields named in the path are
// path parameters, "body" is the JSON body, the others query parameters.
func invokeHuaweiCore(hc *core.HcHttpClient, r routes, op string, request []byte) ([]byte, error) {
	route, ok := r[op]
	if !ok {
		return nil, fmt.Errorf("no route for %s in huawei_routes", op)
	}
	var fields map[string]any
	dec := json.NewDecoder(bytes.NewReader(request))
	dec.UseNumber()
	if err := dec.Decode(&fields); err != nil {
		return nil, err
	}
	builder := def.NewHttpRequestDefBuilder().WithMethod(route[0]).WithPath(route[1]).
		WithResponse(new(coreResponse)).WithContentType("application/json;charset=UTF-8")
	// The core reads each field by its Go name from a struct.
	var goFields []reflect.StructField
	var values []reflect.Value
	for wire, value := range fields {
		if value == nil {
			continue
		}
		name := fmt.Sprintf("F%d", len(goFields))
		builder.WithRequestField(def.NewFieldDef().WithName(name).WithJsonTag(wire).
			WithLocationType(location(route[1], wire)))
		goFields = append(goFields, reflect.StructField{Name: name, Type: reflect.TypeOf(value)})
		values = append(values, reflect.ValueOf(value))
	}
	req := reflect.New(reflect.StructOf(goFields)).Elem()
	for i, v := range values {
		req.Field(i).Set(v)
	}
	resp, err := hc.Sync(req.Addr().Interface(), builder.Build())
	if err != nil {
		return nil, err
	}
	return resp.(*coreResponse).shaped()
}

func location(path, field string) def.LocationType {
	switch {
	case field == "body":
		return def.Body
	case strings.Contains(path, "{"+field+"}"):
		return def.Path
	}
	return def.Query
}

// coreResponse keeps the body of a core call as it came; the core sets
// HttpStatusCode on every response type.
type coreResponse struct {
	HttpStatusCode int `json:"-"`
	body           json.RawMessage
}

func (r *coreResponse) UnmarshalJSON(data []byte) error {
	r.body = append(json.RawMessage(nil), data...)
	return nil
}

// shaped answers the body as the typed models give it: an empty body as
// {}, an array under "body" (CASES.md).
func (r *coreResponse) shaped() ([]byte, error) {
	trimmed := bytes.TrimSpace(r.body)
	switch {
	case len(trimmed) == 0:
		return []byte("{}"), nil
	case trimmed[0] == '[':
		return json.Marshal(map[string]json.RawMessage{"body": trimmed})
	}
	return trimmed, nil
}
