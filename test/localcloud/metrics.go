package localcloud

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/monitoring"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/wire"
)

// apiThrottled is told of every call a Throttle fault refused, over HTTP
// or through a Step Functions aws-sdk integration, and counts it where AWS
// does: a refused Lambda Invoke is a Throttles datapoint.
func (c *Cloud) apiThrottled(ctx context.Context, in any) {
	req := api.RequestFrom(ctx)
	if req.Service == "lambda" && req.Operation == "Invoke" && c.Lambda != nil {
		if inv, ok := in.(*lambda.InvokeInput); ok {
			c.Lambda.RecordThrottle(ctx, inv)
		}
	}
}

// dynamoReads and dynamoWrites are the data-plane operations whose
// throttled events DynamoDB counts as ReadThrottleEvents and
// WriteThrottleEvents.
var (
	dynamoReads  = map[string]bool{"GetItem": true, "BatchGetItem": true, "Query": true, "Scan": true, "TransactGetItems": true}
	dynamoWrites = map[string]bool{"PutItem": true, "UpdateItem": true, "DeleteItem": true, "BatchWriteItem": true, "TransactWriteItems": true}
)

// dynamoRequestThrottled records the metrics of a DynamoDB request that a
// Throttle fault refused before it reached dynalite; the request's body is
// read, as nothing else will read it.
func (c *Cloud) dynamoRequestThrottled(r *http.Request, op string) {
	if !dynamoReads[op] && !dynamoWrites[op] {
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	c.dynamoThrottled(wire.Region(r), op, body)
}

// dynamoThrottled records the AWS/DynamoDB metrics of a data-plane request
// refused for throttling, body being the request's JSON: ThrottledRequests
// (dimensions TableName and Operation) once per table the request names,
// and one ReadThrottleEvents or WriteThrottleEvents (dimension TableName)
// per event, an event being one item read or written. A fault refuses the
// whole request, so every event in it is throttled and, as DynamoDB
// documents, a batch request then counts in ThrottledRequests too. Control
// plane operations and PartiQL statements record nothing.
func (c *Cloud) dynamoThrottled(region, op string, body []byte) {
	metric := "ReadThrottleEvents"
	switch {
	case dynamoReads[op]:
	case dynamoWrites[op]:
		metric = "WriteThrottleEvents"
	default:
		return
	}
	events, order := dynamoEvents(op, body)
	if len(order) == 0 {
		return
	}
	now := c.Clock.Now()
	samples := make([]monitoring.Sample, 0, 2*len(order))
	for _, table := range order {
		samples = append(samples,
			monitoring.Sample{Region: region, Namespace: "AWS/DynamoDB", MetricName: "ThrottledRequests",
				Dimensions: map[string]string{"TableName": table, "Operation": op}, Timestamp: now, Value: 1, Unit: "Count"},
			monitoring.Sample{Region: region, Namespace: "AWS/DynamoDB", MetricName: metric,
				Dimensions: map[string]string{"TableName": table}, Timestamp: now, Value: events[table], Unit: "Count"},
		)
	}
	c.CloudWatch.Record(samples...)
}

// dynamoEvents counts the events of a request by table name (an ARN given
// as TableName is reduced to the name, the metrics' dimension), with the
// table names sorted. A body it cannot read names no table.
func dynamoEvents(op string, body []byte) (map[string]float64, []string) {
	var in struct {
		TableName     string
		RequestItems  map[string]json.RawMessage
		TransactItems []map[string]struct{ TableName string }
	}
	if json.Unmarshal(body, &in) != nil {
		return nil, nil
	}
	events := map[string]float64{}
	var order []string
	add := func(table string, n int) {
		if table == "" || n == 0 {
			return
		}
		if i := strings.LastIndex(table, ":table/"); i >= 0 {
			table = table[i+len(":table/"):]
		}
		if _, seen := events[table]; !seen {
			order = append(order, table)
		}
		events[table] += float64(n)
	}
	switch op {
	case "BatchGetItem":
		// Each key read is its own GetItem event.
		for table, raw := range in.RequestItems {
			var r struct{ Keys []json.RawMessage }
			_ = json.Unmarshal(raw, &r)
			add(table, len(r.Keys))
		}
	case "BatchWriteItem":
		// Each put or delete request is its own event.
		for table, raw := range in.RequestItems {
			var reqs []json.RawMessage
			_ = json.Unmarshal(raw, &reqs)
			add(table, len(reqs))
		}
	case "TransactGetItems", "TransactWriteItems":
		for _, item := range in.TransactItems {
			for _, it := range item {
				add(it.TableName, 1)
			}
		}
	default:
		add(in.TableName, 1)
	}
	// RequestItems is a map: sorted, the tables are recorded in the same
	// order on every run.
	slices.Sort(order)
	return events, order
}
