package wire

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"

	smithytime "github.com/aws/smithy-go/time"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
)

// restRoute is a restJson1 operation's @http trait, as generated from the
// SDK: the method, the URI template (path labels in braces, a greedy label
// ending in '+', optionally a constant query after '?') and the status of a
// success.
type restRoute struct {
	Method string
	URI    string
	Code   int
}

// compiledRoute matches requests to one restJson1 operation.
type compiledRoute struct {
	op     *operation
	method string
	segs   []routeSeg
	// query holds the constant query of the template: each key must be in
	// the request, with the given value unless it is empty.
	query    map[string]string
	code     int
	literals int
	greedy   bool
}

// routeSeg is one segment of a URI template: a literal or a label.
type routeSeg struct {
	literal string
	label   string
	greedy  bool
}

// compileRoute parses an operation's URI template.
func compileRoute(op *operation, r restRoute) (*compiledRoute, error) {
	if r.Method == "" || !strings.HasPrefix(r.URI, "/") {
		return nil, fmt.Errorf("operation %s has no usable @http trait (%s %q)", op.name, r.Method, r.URI)
	}
	path, rawQuery, _ := strings.Cut(r.URI, "?")
	cr := &compiledRoute{op: op, method: r.Method, code: r.Code, query: map[string]string{}}
	if cr.code == 0 {
		cr.code = http.StatusOK
	}
	for _, s := range splitPath(path) {
		if !strings.HasPrefix(s, "{") {
			if strings.ContainsAny(s, "{}") {
				return nil, fmt.Errorf("operation %s: URI segment %q mixes a label and text", op.name, s)
			}
			cr.segs = append(cr.segs, routeSeg{literal: s})
			cr.literals++
			continue
		}
		name, ok := strings.CutSuffix(s, "}")
		if !ok {
			return nil, fmt.Errorf("operation %s: URI segment %q is not a label", op.name, s)
		}
		name = name[1:]
		greedy := strings.HasSuffix(name, "+")
		if greedy {
			if cr.greedy {
				return nil, fmt.Errorf("operation %s: two greedy labels in %q", op.name, r.URI)
			}
			name, cr.greedy = name[:len(name)-1], true
		}
		cr.segs = append(cr.segs, routeSeg{label: name, greedy: greedy})
	}
	for _, kv := range strings.Split(rawQuery, "&") {
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		cr.query[k] = v
	}
	return cr, nil
}

// splitPath splits a URI path into segments, ignoring the leading and any
// trailing slash: Lambda's ListFunctions template ends in a slash that
// clients send but people typing URLs often do not.
func splitPath(p string) []string {
	p = strings.TrimSuffix(strings.TrimPrefix(p, "/"), "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// match returns the label values of a request path (still escaped, split
// into segments) if the route matches it.
func (cr *compiledRoute) match(method string, segs []string, query url.Values) (map[string]string, bool) {
	if method != cr.method {
		return nil, false
	}
	for k, v := range cr.query {
		got, ok := query[k]
		if !ok || v != "" && (len(got) == 0 || got[0] != v) {
			return nil, false
		}
	}
	labels := map[string]string{}
	i := 0
	for n, s := range cr.segs {
		if s.greedy {
			// A greedy label takes one segment or more, leaving enough for
			// the rest of the template.
			end := len(segs) - (len(cr.segs) - n - 1)
			if end <= i {
				return nil, false
			}
			v, err := url.PathUnescape(strings.Join(segs[i:end], "/"))
			if err != nil || v == "" {
				return nil, false
			}
			labels[s.label] = v
			i = end
			continue
		}
		if i >= len(segs) {
			return nil, false
		}
		v, err := url.PathUnescape(segs[i])
		if err != nil {
			return nil, false
		}
		if s.label == "" {
			if v != s.literal {
				return nil, false
			}
		} else {
			if v == "" {
				return nil, false
			}
			labels[s.label] = v
		}
		i++
	}
	if i != len(segs) {
		return nil, false
	}
	return labels, true
}

// findRoute picks the operation a request addresses. When several templates
// match, the most specific wins (see moreSpecific).
func (svc *service) findRoute(r *http.Request) (*compiledRoute, map[string]string) {
	segs := splitPath(r.URL.EscapedPath())
	query := r.URL.Query()
	var best *compiledRoute
	var bestLabels map[string]string
	for _, cr := range svc.routes {
		labels, ok := cr.match(r.Method, segs, query)
		if !ok {
			continue
		}
		if best == nil || cr.moreSpecific(best) {
			best, bestLabels = cr, labels
		}
	}
	return best, bestLabels
}

// moreSpecific reports whether cr should win over other when both match: more
// literal path segments first, then more constant query parameters, then
// no greedy label, so that a template naming more of the request is the
// one meant.
func (cr *compiledRoute) moreSpecific(other *compiledRoute) bool {
	if cr.literals != other.literals {
		return cr.literals > other.literals
	}
	if len(cr.query) != len(other.query) {
		return len(cr.query) > len(other.query)
	}
	return other.greedy && !cr.greedy
}

// restService returns the restJson1 service a request is for: the one its
// SigV4 credential scope names, or, for an unsigned request to a path other
// than "/", the one whose operation templates match the request.
func (s *Server) restService(signing string, r *http.Request) *service {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if svc := s.services[signing]; svc != nil {
		if svc.serves(RestJSON1) {
			return svc
		}
		return nil
	}
	if signing != "" || r.URL.Path == "/" || r.URL.Path == "" {
		return nil
	}
	for _, svc := range s.rest {
		if cr, _ := svc.findRoute(r); cr != nil {
			return svc
		}
	}
	return nil
}

// serveRest answers a restJson1 request: the method and path name the
// operation, and input members travel in path labels, the query string,
// headers and the body.
func (s *Server) serveRest(c *call, body []byte, svc *service) {
	c.proto, c.svc = RestJSON1, svc
	c.req.Service = svc.Name
	cr, labels := svc.findRoute(c.r)
	if cr == nil {
		s.writeError(c, api.Errorf(http.StatusNotFound, "UnknownOperationException", "No operation of %s matches %s %s.", svc.Name, c.r.Method, c.r.URL.EscapedPath()))
		return
	}
	c.route = cr
	c.op = cr.op.name
	c.req.Operation = cr.op.name
	in := reflect.New(cr.op.in)
	if err := decodeRest(c.r, labels, body, in.Elem()); err != nil {
		s.writeError(c, s.decodeFailure(c, err))
		return
	}
	s.invoke(c, cr.op, in)
}

// decodeRest fills an input struct from a restJson1 request.
func decodeRest(r *http.Request, labels map[string]string, body []byte, v reflect.Value) error {
	si := infoFor(v.Type())
	query := r.URL.Query()
	hasBody, hasPayload := false, false
	for i := range si.fields {
		f := &si.fields[i]
		fv := v.Field(f.index)
		switch f.Bind {
		case bindBody:
			hasBody = hasBody || f.In != ""
		case bindLabel:
			if s, ok := labels[f.BindName]; ok {
				if err := setBound(fv, s, f.BindName, "date-time"); err != nil {
					return err
				}
			}
		case bindQuery:
			vals := query[f.BindName]
			if len(vals) == 0 {
				continue
			}
			if err := setValues(fv, vals, f.BindName, "date-time"); err != nil {
				return err
			}
		case bindHeader:
			vals := r.Header.Values(f.BindName)
			if len(vals) == 0 {
				continue
			}
			if isList(fv.Type()) {
				var items []string
				for _, hv := range vals {
					items = append(items, splitHeaderList(hv)...)
				}
				vals = items
			}
			if err := setValues(fv, vals, f.BindName, "http-date"); err != nil {
				return err
			}
		case bindPayload:
			hasPayload = true
			if err := setPayload(fv, body, f.BindName); err != nil {
				return err
			}
		}
	}
	if !hasBody || hasPayload || len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	tree, err := decodeJSON(body)
	if err != nil {
		return fmt.Errorf("could not parse the request body as JSON: %w", err)
	}
	return fromTree("", tree, v)
}

// setPayload fills an @httpPayload member from the whole body: a blob
// takes the bytes as they are, a string their text, a structure their JSON.
func setPayload(v reflect.Value, body []byte, name string) error {
	if len(body) == 0 {
		return nil
	}
	t := v.Type()
	switch {
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8:
		v.SetBytes(bytes.Clone(body))
		return nil
	case t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.String, t.Kind() == reflect.String:
		return setBound(v, string(body), name, "")
	}
	tree, err := decodeJSON(body)
	if err != nil {
		return fmt.Errorf("could not parse the request body as JSON: %w", err)
	}
	return fromTree(name, tree, v)
}

func isList(t reflect.Type) bool {
	return t.Kind() == reflect.Slice && t.Elem().Kind() != reflect.Uint8
}

// setValues fills a scalar from the first value or a list from all values.
func setValues(v reflect.Value, vals []string, name, timeFormat string) error {
	if !isList(v.Type()) {
		return setBound(v, vals[0], name, timeFormat)
	}
	l := reflect.MakeSlice(v.Type(), len(vals), len(vals))
	for i, s := range vals {
		if err := setBound(l.Index(i), s, name, timeFormat); err != nil {
			return err
		}
	}
	v.Set(l)
	return nil
}

// splitHeaderList splits a list header at commas outside double quotes and
// unquotes quoted items, as clients write lists whose items hold commas.
func splitHeaderList(h string) []string {
	var out []string
	var cur strings.Builder
	quoted, escaped := false, false
	for _, r := range h {
		switch {
		case escaped:
			cur.WriteRune(r)
			escaped = false
		case quoted && r == '\\':
			escaped = true
		case r == '"':
			quoted = !quoted
		case r == ',' && !quoted:
			out = append(out, strings.TrimSpace(cur.String()))
			cur.Reset()
		default:
			cur.WriteRune(r)
		}
	}
	return append(out, strings.TrimSpace(cur.String()))
}

// setBound parses one value from a URI label, query parameter or header.
// Timestamps use the location's default format: RFC 3339 in the URI and
// query, the HTTP date in headers.
func setBound(v reflect.Value, s, name, timeFormat string) error {
	t := v.Type()
	if t.Kind() == reflect.Pointer {
		p := reflect.New(t.Elem())
		if err := setBound(p.Elem(), s, name, timeFormat); err != nil {
			return err
		}
		v.Set(p)
		return nil
	}
	bad := func(want string) error { return &decodeError{name, s, want} }
	switch t.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil || s != "true" && s != "false" {
			return bad("a boolean")
		}
		v.SetBool(b)
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Int:
		n, err := strconv.ParseInt(s, 10, t.Bits())
		if err != nil {
			return bad("an integer")
		}
		v.SetInt(n)
	case reflect.Float32, reflect.Float64:
		f, ok := treeFloat(s)
		if !ok {
			var err error
			if f, err = strconv.ParseFloat(s, t.Bits()); err != nil {
				return bad("a number")
			}
		}
		v.SetFloat(f)
	case reflect.Slice:
		if t.Elem().Kind() != reflect.Uint8 {
			return fmt.Errorf("wire: no HTTP binding for %s at %s", t, name)
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return bad("base64-encoded binary data")
		}
		v.SetBytes(b)
	case reflect.Struct:
		if t != timeType {
			return fmt.Errorf("wire: no HTTP binding for %s at %s", t, name)
		}
		var tm time.Time
		var err error
		if timeFormat == "http-date" {
			tm, err = smithytime.ParseHTTPDate(s)
		} else {
			tm, err = smithytime.ParseDateTime(s)
		}
		if err != nil {
			return bad("a timestamp")
		}
		v.Set(reflect.ValueOf(tm.UTC()))
	default:
		return fmt.Errorf("wire: no HTTP binding for %s at %s", t, name)
	}
	return nil
}

// writeRestOutput encodes a restJson1 answer: the status from an
// @httpResponseCode member or the operation's success code, header-bound
// members as headers, and an @httpPayload member or the remaining members
// (as JSON) as the body.
func (s *Server) writeRestOutput(c *call, op *operation, out reflect.Value) {
	status := c.route.code
	h := c.w.Header()
	si := infoFor(op.out)
	var body []byte
	ctype := "application/json"
	hasBody, hasPayload := false, false
	for i := range si.fields {
		f := &si.fields[i]
		fv := out.Field(f.index)
		switch f.Bind {
		case bindBody:
			hasBody = hasBody || f.Out != ""
		case bindStatus:
			for fv.Kind() == reflect.Pointer && !fv.IsNil() {
				fv = fv.Elem()
			}
			if fv.Kind() == reflect.Pointer || fv.Int() == 0 {
				continue
			}
			if fv.Int() < 200 || fv.Int() > 299 {
				s.opts.Logger.Error("wire: handler answered a status that is not a success", "service", c.svc.Name, "operation", op.name, "status", fv.Int(), "requestId", c.req.RequestID)
				s.writeError(c, api.Internal("An internal error occurred. Request id %s.", c.req.RequestID))
				return
			}
			status = int(fv.Int())
		case bindHeader:
			if hv, ok := headerValue(fv); ok {
				h.Set(f.BindName, hv)
			}
		case bindPayload:
			hasPayload = true
			body, ctype = payloadBytes(fv)
		}
	}
	if !hasPayload && hasBody {
		var buf bytes.Buffer
		jsonEncoder{buf: &buf}.structValue(out)
		body = bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	}
	s.finish(c, status, ctype, body)
}

// payloadBytes encodes an @httpPayload output member as the whole body.
func payloadBytes(v reflect.Value) ([]byte, string) {
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return nil, "application/json"
		}
		v = v.Elem()
	}
	switch {
	case v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Uint8:
		return v.Bytes(), "application/octet-stream"
	case v.Kind() == reflect.String:
		return []byte(v.String()), "text/plain"
	}
	var buf bytes.Buffer
	jsonEncoder{buf: &buf}.structValue(v)
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), "application/json"
}

// headerValue formats a header-bound member; ok is false when it is unset.
// Lists are comma-separated, quoting items that hold a comma or a quote.
func headerValue(v reflect.Value) (string, bool) {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return "", false
		}
		return scalarText(v.Elem())
	case reflect.Slice:
		if v.IsNil() {
			return "", false
		}
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return base64.StdEncoding.EncodeToString(v.Bytes()), true
		}
		items := make([]string, 0, v.Len())
		for i := 0; i < v.Len(); i++ {
			s, _ := scalarText(v.Index(i))
			if strings.ContainsAny(s, ",\"") {
				s = strconv.Quote(s)
			}
			items = append(items, s)
		}
		return strings.Join(items, ", "), true
	}
	// Non-pointer members are set when not zero, as the SDK's serializers
	// treat them.
	if v.IsZero() {
		return "", false
	}
	return scalarText(v)
}

// scalarText formats a header value.
func scalarText(v reflect.Value) (string, bool) {
	switch v.Kind() {
	case reflect.String:
		return v.String(), true
	case reflect.Bool:
		return strconv.FormatBool(v.Bool()), true
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Int:
		return strconv.FormatInt(v.Int(), 10), true
	case reflect.Float32, reflect.Float64:
		f := v.Float()
		switch {
		case math.IsNaN(f):
			return "NaN", true
		case math.IsInf(f, 1):
			return "Infinity", true
		case math.IsInf(f, -1):
			return "-Infinity", true
		}
		return strconv.FormatFloat(f, 'g', -1, v.Type().Bits()), true
	case reflect.Struct:
		if v.Type() == timeType {
			return smithytime.FormatHTTPDate(v.Interface().(time.Time)), true
		}
	}
	return "", false
}

// restError writes a restJson1 error: clients read the code from the
// X-Amzn-ErrorType header and the message from "message" or "Message"
// (typed errors fill their Message member from whichever their shape
// names). Lambda also says who is at fault in "Type".
func restError(buf *bytes.Buffer, w http.ResponseWriter, svc *service, e *api.Error) {
	w.Header().Set("X-Amzn-ErrorType", e.Code)
	buf.WriteString("{")
	if svc != nil && svc.FaultMember != "" {
		fault := "User"
		if e.Server || e.HTTPStatus() >= 500 {
			fault = "Service"
		}
		writeJSONString(buf, svc.FaultMember)
		buf.WriteString(":")
		writeJSONString(buf, fault)
		buf.WriteString(",")
	}
	buf.WriteString(`"message":`)
	writeJSONString(buf, e.Message)
	buf.WriteString(`,"Message":`)
	writeJSONString(buf, e.Message)
	buf.WriteString("}")
}
