package wire

import (
	"bytes"
	"net/http"
	"reflect"
	"strings"

	"github.com/fxamacker/cbor/v2"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
)

var (
	cborDec, _ = cbor.DecOptions{
		DefaultMapType:  reflect.TypeFor[map[string]any](),
		MaxNestedLevels: 64,
	}.DecMode()
	cborEnc, _ = cbor.EncOptions{}.EncMode()
)

// serveCBOR answers a Smithy RPCv2 CBOR request: POST
// /service/<ServiceShape>/operation/<Operation> with a CBOR map body.
func (s *Server) serveCBOR(c *call, body []byte) {
	c.proto = RPCv2CBOR
	rest, ok := strings.CutPrefix(c.r.URL.Path, "/service/")
	shape, opName, ok2 := strings.Cut(rest, "/operation/")
	c.op = opName
	c.req.Operation = opName
	s.mu.RLock()
	svc := s.byShape[shape]
	s.mu.RUnlock()
	if !ok || !ok2 || svc == nil {
		s.writeError(c, api.Errorf(http.StatusNotFound, "UnknownOperationException", "Unknown operation path %s.", c.r.URL.Path))
		return
	}
	c.svc = svc
	c.req.Service = svc.Name
	op := svc.ops[opName]
	if op == nil {
		s.writeError(c, api.Errorf(http.StatusNotFound, "UnknownOperationException", "Unknown operation %s.", opName))
		return
	}
	in := reflect.New(op.in)
	if len(body) > 0 {
		var tree any
		if err := cborDec.Unmarshal(body, &tree); err != nil {
			s.writeError(c, api.Errorf(http.StatusBadRequest, "SerializationException", "Could not parse the request body as CBOR: %v", err))
			return
		}
		if err := fromTree("", tree, in.Elem()); err != nil {
			s.writeError(c, s.decodeFailure(c, err))
			return
		}
	}
	s.invoke(c, op, in)
}

// encodeCBOR writes an SDK output as a CBOR map.
func encodeCBOR(v reflect.Value) ([]byte, error) {
	tree, ok := toTree(v, cborMode)
	if !ok {
		tree = map[string]any{}
	}
	return cborEnc.Marshal(tree)
}

// cborError writes an RPCv2 CBOR error body; clients read the code from
// __type, dropping any namespace, the generic message from "message" and a
// typed error's Message member from "Message". An error whose shape is
// named apart from its code has the shape as __type (the query code goes
// in X-Amzn-Query-Error, see writeError), and its other members beside the
// message, where the typed error's deserializer reads them.
func cborError(_ *service, e *api.Error) []byte {
	var buf bytes.Buffer
	body := map[string]any{"__type": e.Code, "message": e.Message, "Message": e.Message}
	if e.Shape != "" {
		body["__type"] = e.Shape
	}
	for k, v := range e.Members {
		body[k] = v
	}
	b, err := cborEnc.Marshal(body)
	if err != nil {
		return nil
	}
	buf.Write(b)
	return buf.Bytes()
}
