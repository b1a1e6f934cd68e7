package wire

import "net/http"

// known describes the services Phoenix simulates, as their SDK clients and
// the AWS CLI address them.
var known = map[string]Service{
	"autoscaling": {Name: "autoscaling", Protocol: AWSQuery, Version: "2011-01-01",
		XMLNamespace: "http://autoscaling.amazonaws.com/doc/2011-01-01/", ThrottleCode: "Throttling", ThrottleStatus: http.StatusBadRequest},
	"ec2": {Name: "ec2", Protocol: EC2Query, Version: "2016-11-15",
		XMLNamespace: "http://ec2.amazonaws.com/doc/2016-11-15/", ThrottleCode: "RequestLimitExceeded", ThrottleStatus: http.StatusServiceUnavailable},
	"elasticloadbalancing": {Name: "elasticloadbalancing", Protocol: AWSQuery, Version: "2015-12-01",
		XMLNamespace: "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/", ThrottleCode: "Throttling", ThrottleStatus: http.StatusBadRequest},
	"sns": {Name: "sns", Protocol: AWSQuery, Version: "2010-03-31",
		XMLNamespace: "http://sns.amazonaws.com/doc/2010-03-31/", ThrottleCode: "Throttling", ThrottleStatus: http.StatusBadRequest},
	"sts": {Name: "sts", Protocol: AWSQuery, Version: "2011-06-15",
		XMLNamespace: "https://sts.amazonaws.com/doc/2011-06-15/", ThrottleCode: "Throttling", ThrottleStatus: http.StatusBadRequest},
	"monitoring": {Name: "monitoring", Protocol: RPCv2CBOR, ShapeName: "GraniteServiceVersion20100801", Version: "2010-08-01",
		XMLNamespace: "http://monitoring.amazonaws.com/doc/2010-08-01/", ThrottleCode: "Throttling", ThrottleStatus: http.StatusBadRequest},
	"ssm":    {Name: "ssm", Protocol: AWSJSON11, TargetPrefix: "AmazonSSM", ThrottleCode: "ThrottlingException", ThrottleStatus: http.StatusBadRequest},
	"events": {Name: "events", Protocol: AWSJSON11, TargetPrefix: "AWSEvents", ThrottleCode: "ThrottlingException", ThrottleStatus: http.StatusBadRequest},
	"states": {Name: "states", Protocol: AWSJSON10, TargetPrefix: "AWSStepFunctions", ThrottleCode: "ThrottlingException", ThrottleStatus: http.StatusBadRequest},
	"lambda": {Name: "lambda", Protocol: RestJSON1, ThrottleCode: "TooManyRequestsException", ThrottleStatus: http.StatusTooManyRequests,
		FaultMember: "Type"},
	"imagebuilder": {Name: "imagebuilder", Protocol: RestJSON1, ThrottleCode: "CallRateLimitExceededException", ThrottleStatus: http.StatusTooManyRequests},
}

// Describe returns the description of a simulated service by signing name
// ("autoscaling", "ec2", "elasticloadbalancing", "sns", "sts",
// "monitoring", "ssm", "events", "states", "lambda", "imagebuilder") with
// handler attached, ready for Register. CloudWatch ("monitoring") is described for both of its
// protocols: rpcv2Cbor, which current SDKs speak, and awsQuery (through
// Version), which older clients such as the Debian AWS CLI speak.
func Describe(name string, handler any) (Service, bool) {
	s, ok := known[name]
	s.Handler = handler
	return s, ok
}
