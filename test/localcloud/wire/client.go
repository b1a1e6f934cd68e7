package wire

import (
	"io"
	"net/http"
)

// HTTPClient returns the HTTP client to give aws-sdk-go-v2 clients that talk
// to the local cloud (their Options.HTTPClient).
//
// With the SDK's own client, requests to a server on the same machine fail
// now and then with "use of closed network connection": smithy-go closes
// the request body as soon as the response arrives, and its body wrapper's
// WriteTo then returns io.EOF as an error. net/http reads the body once
// more after sending it, to check that it has ended; when the local answer
// beats that read, the EOF aborts the request write and the transport
// closes the connection while the response is still being read. Over a real
// network the answer never arrives that early. This client hides WriteTo,
// so the last read goes through Read, which reports a clean io.EOF.
func HTTPClient() *http.Client {
	base := http.DefaultTransport.(*http.Transport).Clone()
	return &http.Client{Transport: readOnlyBodies{base}}
}

type readOnlyBodies struct{ next http.RoundTripper }

// readOnlyBody exposes only Read and Close of a request body.
type readOnlyBody struct{ io.ReadCloser }

func (t readOnlyBodies) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return t.next.RoundTrip(r)
	}
	// A RoundTripper must not modify the caller's request.
	shallow := *r
	shallow.Body = readOnlyBody{r.Body}
	return t.next.RoundTrip(&shallow)
}
