package wire

import (
	"errors"
	"net/http"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/iam"
)

// authorizationError turns an Authorize refusal into the error the
// service answers on AWS, in its protocol's shape. A refusal the
// authorizer already phrased as the service's own error (SNS's
// KMSAccessDenied when the topic's key policy refuses the caller) is
// answered as it is.
func (s *Server) authorizationError(c *call, err error) *api.Error {
	var apiErr *api.Error
	if errors.As(err, &apiErr) {
		return apiErr
	}
	var denied *iam.AccessDenied
	if !errors.As(err, &denied) {
		s.opts.Logger.Error("wire: authorization failed", "service", c.req.Service, "operation", c.op, "err", err, "requestId", c.req.RequestID)
		return api.Internal("The local cloud could not authorize %s.%s: %v", c.req.Service, c.op, err)
	}
	return AccessDeniedError(c.svc.Name, c.proto, denied)
}

// AccessDeniedError is the error a service answers a refused call with on
// AWS: EC2's UnauthorizedOperation with its encoded authorization failure
// message, SNS's AuthorizationError, AccessDenied for the other query
// services and AccessDeniedException for JSON, CBOR and REST ones.
func AccessDeniedError(service string, proto Protocol, d *iam.AccessDenied) *api.Error {
	switch {
	case proto == EC2Query:
		return &api.Error{Code: "UnauthorizedOperation", Status: http.StatusForbidden,
			Message: "You are not authorized to perform this operation. " + d.Error() + ". Encoded authorization failure message: " + d.Encoded()}
	case service == "sns":
		return &api.Error{Code: "AuthorizationError", Status: http.StatusForbidden, Message: d.Error()}
	case proto == AWSQuery:
		return &api.Error{Code: "AccessDenied", Status: http.StatusForbidden, Message: d.Error()}
	case proto == RestJSON1:
		return &api.Error{Code: "AccessDeniedException", Status: http.StatusForbidden, Message: d.Error()}
	}
	// awsJson services (DynamoDB, Step Functions, SSM, EventBridge) and
	// CloudWatch over JSON or CBOR answer 400.
	return &api.Error{Code: "AccessDeniedException", Status: http.StatusBadRequest, Message: d.Error()}
}

// Region returns the region a SigV4 request was signed for (the default
// region for an unsigned one), for services the cloud forwards rather
// than serves itself.
func Region(r *http.Request) string {
	_, region := credentialScope(r)
	return region
}
