// Package wire is the HTTP face of the local cloud: it turns requests from
// unmodified aws-sdk-go-v2 clients and the AWS CLI into calls on service
// model objects, and their results and errors back into the bytes those
// clients parse.
//
// # Identification
//
// Each request is matched to a registered Service and an operation:
//
//   - X-Amz-Target "Prefix.Operation": awsJson 1.0/1.1 (SSM, EventBridge,
//     Step Functions), by Service.TargetPrefix.
//   - Smithy-Protocol: rpc-v2-cbor and path
//     /service/<ShapeName>/operation/<Operation>: RPCv2 CBOR (CloudWatch in
//     current SDKs), by Service.ShapeName.
//   - Otherwise a form (body or query string) with Action and Version:
//     awsQuery or ec2Query, by Service.Version; when two services share a
//     version the SigV4 credential scope's service name decides. A service
//     that speaks another protocol but has a Version (CloudWatch) also
//     answers query requests, as AWS does for older clients.
//
// The region is the credential scope's (SigV4a requests name it in
// X-Amz-Region-Set), us-east-1 if none; signatures are not checked. The
// handler's context carries an api.Request with region, account, request
// id, service and operation, and every answer carries x-amzn-RequestId.
// gzip-encoded bodies (request compression) are accepted.
//
// # Name tables
//
// AWS wire names are not Go field names: EC2 reads DescribeImagesInput.Filters
// as Filter.N and answers Images as imagesSet/item; Step Functions keys JSON
// in camelCase. The tables in names_gen.go are copied from the SDK itself by
// internal/gen (go generate): for each Go type reachable from a served
// operation they give, per field, the request name and flattening from the
// SDK's serializers and the response name, flattening and list/map member
// names from its deserializers. For services built on Smithy schemas (SSM,
// EventBridge, CloudWatch) the names are the schema member names, mapped to
// fields through the generated SerializeMembers methods. The codecs walk Go
// values by reflection and consult the tables; a field absent from a table
// does not travel.
//
// Missing required members are found by the SDK's own validators: a real
// client whose middleware stack stops right after validation is called with
// the decoded input, and its smithy.InvalidParamsError becomes AWS's
// ValidationError, ValidationException or EC2 MissingParameter.
//
// # Adding a service or an operation
//
//  1. Add the operation (or the service, its SDK module and client type) to
//     the services list in internal/gen/main.go and run go generate in this
//     directory; it rewrites names_gen.go and the test fakes.
//  2. For a new service, add its client to clientFactories (validate.go) and
//     its description to known (services.go): signing name, protocol,
//     version and namespace or target prefix, throttling code and status.
//  3. Give the model a method with the SDK client's exact signature. The
//     round-trip test then covers the operation in both directions.
//
// restJson1 (Lambda, Image Builder) is not implemented: Register refuses it.
package wire
