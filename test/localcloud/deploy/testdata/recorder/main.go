// Command recorder is a Lambda function for the deploy tests: it stores the
// detail-type (or "direct") and the value of its RECORD_PREFIX variable in
// an SSM parameter through the local cloud, so a test can see that a
// deployed rule or state machine really ran the function, with the
// template's environment, and that the function reached the cloud back.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
)

type event struct {
	DetailType string `json:"detail-type"`
	Source     string `json:"source"`
}

func main() {
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		panic(err)
	}
	client := ssm.NewFromConfig(cfg)
	lambda.Start(func(ctx context.Context, raw json.RawMessage) (map[string]string, error) {
		var ev event
		_ = json.Unmarshal(raw, &ev)
		what := ev.DetailType
		if what == "" {
			what = "direct"
		}
		value := fmt.Sprintf("%s|%s", os.Getenv("RECORD_PREFIX"), what)
		_, err := client.PutParameter(ctx, &ssm.PutParameterInput{
			Name: aws.String("/recorder/last"), Value: aws.String(value), Type: "String", Overwrite: aws.Bool(true),
		})
		if err != nil {
			return nil, fmt.Errorf("record: %w", err)
		}
		return map[string]string{"recorded": value}, nil
	})
}
