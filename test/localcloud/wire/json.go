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
	c.svc, c.proto = svc, svc.Protocol
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
