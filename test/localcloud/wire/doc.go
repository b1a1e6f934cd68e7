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
//     Step Functions, and CloudWatch for boto3 and AWS CLI v1), by
//     Service.TargetPrefix. Errors are {"__type", "message"} with the
//     error's status; a query-compatible service (CloudWatch) names an
//     error whose shape differs from its code by the shape in __type and
//     puts "Code;Sender" in X-Amzn-Query-Error, as with rpcv2Cbor.
//   - Smithy-Protocol: rpc-v2-cbor and path
//     /service/<ShapeName>/operation/<Operation>: RPCv2 CBOR (CloudWatch in
//     current SDKs), by Service.ShapeName.
//   - A SigV4 credential scope naming a restJson1 service (lambda,
//     imagebuilder), or an unsigned request to a path other than "/" that
//     one of their URI templates matches: restJson1, routed by method and
//     URI template. Labels are read from the path (a greedy {Label+} takes
//     several segments), members bound with @httpQuery and @httpHeader from
//     the query string and headers, an @httpPayload member from the whole
//     body (raw bytes for a blob such as Invoke's Payload) and the other
//     members from a JSON body. When several templates match, the one with
//     more literal segments wins, then more constant query parameters, then
//     no greedy label. Answers take their status from an
//     @httpResponseCode member (Invoke's 200/202/204) or the operation's
//     success code, header-bound members as headers, and errors carry the
//     code in X-Amzn-ErrorType with "message" and "Message" (and Lambda's
//     "Type": User or Service) in a JSON body. Body timestamps are epoch
//     seconds, header timestamps HTTP dates, URI and query ones RFC 3339.
//   - Otherwise a form (body or query string) with Action and Version:
//     awsQuery or ec2Query, by Service.Version; when two services share a
//     version the SigV4 credential scope's service name decides.
//
// A service answers every protocol its model lists (botocore's
// metadata.protocols): Service.Protocol, which its Go SDK client speaks,
// and Service.Also. CloudWatch answers rpcv2Cbor, awsJson1_0 and awsQuery.
// Register refuses a service whose identification (Version, TargetPrefix,
// ShapeName) names a protocol it does not list, or lacks one a listed
// protocol needs; botocore_test.go holds the descriptions, operation names
// and member names against botocore's models.
//
// Reserved paths (Server.Handle, the admin API's /_phoenix/) are matched
// before any of these.
//
// The region is the credential scope's (SigV4a requests name it in
// X-Amz-Region-Set), us-east-1 if none; signatures are not checked. The
// handler's context carries an api.Request with region, account, request
// id, service and operation, and every answer carries x-amzn-RequestId.
// gzip-encoded bodies (request compression) are accepted.
//
// # Authorization
//
// After a request is decoded and validated, and before fault rules and the
// model, Options.Authorize (the local cloud's IAM, docs/iam-local.md) is
// asked whether the access key that signed it may make the call; a refusal
// is answered in the service's own shape (AccessDeniedError).
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
// EventBridge, CloudWatch, Lambda) the names are the schema member names,
// mapped to fields through the generated SerializeMembers methods, and the
// HTTP binding traits come from the schema. restJson1 operations also get
// their @http trait (method, URI template, success code): from the
// operation schema for Lambda, from the operation serializer for Image
// Builder. The codecs walk Go values by reflection and consult the tables;
// a field absent from a table does not travel.
//
// The served operations are not listed by hand: internal/served pairs each
// model type with its SDK client, and every exported method of the model
// whose signature is exactly the client's method of the same name is an
// operation. A test recomputes that set by reflection and fails, asking
// for go generate, when the checked-in tables lag behind the models.
//
// Missing required members are found by the SDK's own validators: a real
// client whose middleware stack stops right after validation is called with
// the decoded input, and its smithy.InvalidParamsError becomes AWS's
// ValidationError, ValidationException or EC2 MissingParameter.
//
// # Adding a service or an operation
//
//  1. Give the model a method with the SDK client's exact signature and run
//     go generate in this directory; it rewrites names_gen.go and the test
//     fakes. The round-trip test then covers the operation in both
//     directions.
//  2. For a new service, also add the model and its client type to
//     internal/served, its client to clientFactories (validate.go) and its
//     description to known (services.go): signing name, protocol, version
//     and namespace or target prefix, throttling code and status.
//
// The generator stops, rather than drop members silently, on what the wire
// layer does not carry yet: @httpPrefixHeaders, @httpQueryParams,
// @timestampFormat, @mediaType headers, and payloads or output bindings of
// restJson1 clients generated without schemas.
package wire
