package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
)

// serveJSON answers an awsJson 1.0/1.1 request: "X-Amz-Target:
// Prefix.Operation" names the operation, the body is a JSON object.
func (s *Server) serveJSON(c *call, body []byte) {
	c.proto = AWSJSON11
	if strings.Contains(c.r.Header.Get("Content-Type"), "1.0") {
		c.proto = AWSJSON10
	}
	prefix, opName, _ := strings.Cut(c.r.Header.Get("X-Amz-Target"), ".")
	c.op = opName
	c.req.Operation = opName
	s.mu.RLock()
	svc := s.byTarget[prefix]
	s.mu.RUnlock()
	if svc == nil {
		s.writeError(c, api.Errorf(http.StatusBadRequest, "UnknownOperationException", "Unknown service target %s.", prefix))
		return
	}
	// A service answering awsJson beside its SDK's protocol (CloudWatch:
	// rpcv2Cbor, and awsJson1_0 for boto3) answers in the version it
	// serves.
	c.svc, c.proto = svc, svc.jsonProtocol()
	c.req.Service = svc.Name
	op := svc.ops[opName]
	if op == nil {
		s.writeError(c, api.Errorf(http.StatusBadRequest, "UnknownOperationException", "Unknown operation %s.", opName))
		return
	}
	in := reflect.New(op.in)
	if len(bytes.TrimSpace(body)) > 0 {
		tree, err := decodeJSON(body)
		if err != nil {
			s.writeError(c, api.Errorf(http.StatusBadRequest, "SerializationException", "Could not parse the request body as JSON: %v", err))
			return
		}
		if err := fromTree("", tree, in.Elem()); err != nil {
			s.writeError(c, s.decodeFailure(c, err))
			return
		}
	}
	s.invoke(c, op, in)
}

// decodeJSON parses exactly one JSON object, keeping numbers exact.
func decodeJSON(body []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("trailing data after the JSON object")
	}
	m, ok := tree.(map[string]any)
	if !ok {
		return nil, errors.New("the body must be a JSON object")
	}
	return m, nil
}

// jsonEncoder writes SDK outputs as awsJson bodies.
type jsonEncoder struct{ buf *bytes.Buffer }

func (e jsonEncoder) structValue(v reflect.Value) {
	tree, ok := toTree(v, jsonMode)
	if !ok {
		e.buf.WriteString("{}")
		return
	}
	enc := json.NewEncoder(e.buf)
	enc.SetEscapeHTML(false)
	// Encoding a tree of maps, slices, strings, numbers and booleans
	// cannot fail.
	_ = enc.Encode(tree)
}

// writeJSONString writes s as a JSON string.
func writeJSONString(buf *bytes.Buffer, s string) {
	b, _ := json.Marshal(s)
	buf.Write(b)
}

// jsonError writes an awsJson error body: the code in __type (the shape
// for a query-compatible service's error whose code differs, see
// Service.QueryCompatible), the message both as "message", which generic
// readers take, and as "Message", from which typed errors of schema-serde
// clients fill their Message member, then the error's other members
// (CloudWatch's dashboardValidationMessages) in name order.
func jsonError(svc *service, e *api.Error) []byte {
	var buf bytes.Buffer
	typ := e.Code
	if svc != nil && svc.QueryCompatible && e.Shape != "" {
		typ = e.Shape
	}
	buf.WriteString(`{"__type":`)
	writeJSONString(&buf, typ)
	buf.WriteString(`,"message":`)
	writeJSONString(&buf, e.Message)
	buf.WriteString(`,"Message":`)
	writeJSONString(&buf, e.Message)
	for _, k := range sortedKeys(e.Members) {
		if k == "message" || k == "Message" || k == "__type" {
			continue
		}
		b, err := json.Marshal(e.Members[k])
		if err != nil {
			continue
		}
		buf.WriteString(",")
		writeJSONString(&buf, k)
		buf.WriteString(":")
		buf.Write(b)
	}
	buf.WriteString("}")
	return buf.Bytes()
}
