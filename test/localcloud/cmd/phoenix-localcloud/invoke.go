package main

import (
	"context"
	"encoding/base64"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/phoenix-rollouts/phoenix/test/localcloud"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/deploy"
)

// runInvoke deploys the template on a fresh stepped local cloud and invokes
// one function (by its functions/<name> folder) with an event file, printing
// the answer and the function's log: `make invoke FN=name EVENT=file`.
func runInvoke(args []string) error {
	fs := flag.NewFlagSet("invoke", flag.ContinueOnError)
	fn := fs.String("fn", "", "function folder name under functions/ (required)")
	event := fs.String("event", "", "event JSON file (required)")
	template := fs.String("template", "template.yaml", "SAM template to deploy")
	binDir := fs.String("functions", "bin/functions", "folder of built function bootstraps (make functions)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *fn == "" || *event == "" {
		return fmt.Errorf("usage: phoenix-localcloud invoke -fn NAME -event FILE (e.g. make invoke FN=refresh-events EVENT=events/instance-refresh-succeeded.json)")
	}
	payload, err := os.ReadFile(*event)
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	cloud, err := localcloud.New(localcloud.Options{Endpoint: "http://" + l.Addr().String(), DynamoDB: true, Seed: 1})
	if err != nil {
		l.Close()
		return err
	}
	defer cloud.Close()
	srv := &http.Server{Handler: cloud.Handler()}
	go func() { _ = srv.Serve(l) }()
	defer srv.Close()
	abs, err := filepath.Abs(*binDir)
	if err != nil {
		return err
	}
	stack, err := deploy.File(context.Background(), cloud, *template, deploy.Options{BinDir: abs})
	if err != nil {
		return err
	}
	tpl, err := deploy.ParseFile(*template)
	if err != nil {
		return err
	}
	name := ""
	for _, r := range tpl.OfType("AWS::Serverless::Function") {
		if uri, _ := r.Properties["CodeUri"].(string); strings.Trim(filepath.Base(strings.TrimSuffix(uri, "/")), "/") == *fn {
			name = stack.Resources[r.Name].PhysicalID
		}
	}
	if name == "" {
		return fmt.Errorf("the template has no function built from functions/%s/", *fn)
	}
	ctx := api.WithRequest(context.Background(), api.Request{Region: api.DefaultRegion, Account: cloud.World.Account()})
	cloud.Clock.Settle()
	out, err := cloud.Lambda.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(name), Payload: payload, LogType: lambdatypes.LogTypeTail})
	if err != nil {
		return err
	}
	fmt.Printf("function %s (functions/%s), status %d", name, *fn, out.StatusCode)
	if out.FunctionError != nil {
		fmt.Printf(", error %s", aws.ToString(out.FunctionError))
	}
	fmt.Printf("\n\nanswer:\n%s\n", out.Payload)
	if logs, err := base64.StdEncoding.DecodeString(aws.ToString(out.LogResult)); err == nil {
		fmt.Printf("\nlog (last 4 KB):\n%s\n", logs)
	}
	if out.FunctionError != nil {
		return fmt.Errorf("the function returned an error")
	}
	return nil
}
