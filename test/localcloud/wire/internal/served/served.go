// Package served says which AWS operations the local cloud serves: the
// service models, each paired with the aws-sdk-go-v2 client it stands in
// for, and the rule that picks their operations. The wire layer's generator
// writes its tables from it, and a test of the wire package checks those
// tables against it, so a model that gains an operation without `go
// generate` fails the tests instead of failing at startup.
package served

import (
	"context"
	"reflect"

	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/imagebuilder"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/eventbus"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/functions"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/identity"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/imagepipeline"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/monitoring"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/notify"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/params"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/sim"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/states"
)

// Model pairs a simulated service with the SDK client it answers for.
type Model struct {
	// Name is the service's SigV4 signing name, as in wire.Describe.
	Name string
	// Client is the SDK client type, e.g. *lambda.Client.
	Client reflect.Type
	// Model is the model type, e.g. *functions.Service.
	Model reflect.Type
}

// Module returns the SDK module of the model's client, e.g.
// "github.com/aws/aws-sdk-go-v2/service/lambda".
func (m Model) Module() string { return m.Client.Elem().PkgPath() }

// Operations returns the model's operations, sorted.
func (m Model) Operations() []string { return Operations(m.Model, m.Client) }

// Models lists every service model the local cloud serves over HTTP. Only
// services are listed here; their operations are found by Operations.
var Models = []Model{
	{"autoscaling", reflect.TypeFor[*autoscaling.Client](), reflect.TypeFor[*sim.AutoScaling]()},
	{"ec2", reflect.TypeFor[*ec2.Client](), reflect.TypeFor[*sim.EC2]()},
	{"elasticloadbalancing", reflect.TypeFor[*elasticloadbalancingv2.Client](), reflect.TypeFor[*sim.ELB]()},
	{"sts", reflect.TypeFor[*sts.Client](), reflect.TypeFor[*identity.STS]()},
	{"sns", reflect.TypeFor[*sns.Client](), reflect.TypeFor[*notify.SNS]()},
	{"states", reflect.TypeFor[*sfn.Client](), reflect.TypeFor[*states.Service]()},
	{"ssm", reflect.TypeFor[*ssm.Client](), reflect.TypeFor[*params.ParameterStore]()},
	{"events", reflect.TypeFor[*eventbridge.Client](), reflect.TypeFor[*eventbus.EventBridge]()},
	{"monitoring", reflect.TypeFor[*cloudwatch.Client](), reflect.TypeFor[*monitoring.CloudWatch]()},
	{"lambda", reflect.TypeFor[*lambda.Client](), reflect.TypeFor[*functions.Service]()},
	{"imagebuilder", reflect.TypeFor[*imagebuilder.Client](), reflect.TypeFor[*imagepipeline.ImageBuilder]()},
}

var (
	ctxType = reflect.TypeFor[context.Context]()
	errType = reflect.TypeFor[error]()
)

// Operations returns, sorted, the names of model's exported methods whose
// signature is exactly that of client's method of the same name: these
// are the operations a real client and the model share. A method that
// differs in any parameter (another service's input type, a missing
// variadic options parameter) is not an operation, so it can never be
// served by mistake.
func Operations(model, client reflect.Type) []string {
	var ops []string
	// NumMethod lists methods in lexicographic order, so ops is sorted.
	for i := 0; i < model.NumMethod(); i++ {
		m := model.Method(i)
		cm, ok := client.MethodByName(m.Name)
		if ok && isOperation(cm.Type) && sameSignature(m.Type, cm.Type) {
			ops = append(ops, m.Name)
		}
	}
	return ops
}

// isOperation reports whether a client method (receiver included) has the
// operation shape func(ctx, *Input, ...func(*Options)) (*Output, error),
// which leaves out helpers such as Options().
func isOperation(t reflect.Type) bool {
	return t.NumIn() == 4 && t.IsVariadic() && t.In(1) == ctxType && t.NumOut() == 2 && t.Out(1) == errType
}

// sameSignature compares two method types, receivers excluded.
func sameSignature(a, b reflect.Type) bool {
	if a.NumIn() != b.NumIn() || a.NumOut() != b.NumOut() || a.IsVariadic() != b.IsVariadic() {
		return false
	}
	for i := 1; i < a.NumIn(); i++ {
		if a.In(i) != b.In(i) {
			return false
		}
	}
	for i := 0; i < a.NumOut(); i++ {
		if a.Out(i) != b.Out(i) {
			return false
		}
	}
	return true
}
