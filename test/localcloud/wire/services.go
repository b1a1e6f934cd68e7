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
	// CloudWatch's model lists three protocols (botocore's
	// metadata.protocols): rpcv2Cbor for current SDKs, awsJson1_0 for
	// boto3 and AWS CLI v1, awsQuery for older CLIs. It is
	// @awsQueryCompatible.
	"monitoring": {Name: "monitoring", Protocol: RPCv2CBOR, Also: []Protocol{AWSJSON10, AWSQuery}, QueryCompatible: true,
		ShapeName: "GraniteServiceVersion20100801", TargetPrefix: "GraniteServiceVersion20100801", Version: "2010-08-01",
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
// handler attached, ready for Register. Each service is described for
// every protocol its model lists: CloudWatch ("monitoring") for rpcv2Cbor,
// which current Go SDKs speak, awsJson1_0, which boto3 and AWS CLI v1
// speak, and awsQuery, which older clients such as the Debian AWS CLI
// speak. A test (botocore_test.go) holds these descriptions against
// botocore's service models.
func Describe(name string, handler any) (Service, bool) {
	s, ok := known[name]
	s.Handler = handler
	return s, ok
}
