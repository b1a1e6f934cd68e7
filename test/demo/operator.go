package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/phoenix-rollouts/phoenix/cmd/phoenix/cli"
)

// OperatorView is what the phoenix CLI showed at a story's end: the same
// command an operator would type, against the same endpoint.
type OperatorView struct {
	Command string `json:"command"`
	Output  string `json:"output"`
	// Code is the CLI's exit code (0 when it worked).
	Code int `json:"code"`
}

// phoenix runs the operator CLI in process against the local cloud, with
// an environment holding only the endpoint, the region and the local
// cloud's credentials, and the simulated clock as its "now".
func (d *demo) phoenix(ctx context.Context, args ...string) OperatorView {
	env := map[string]string{
		"AWS_ACCESS_KEY_ID": "AKIDLOCALCLOUD", "AWS_SECRET_ACCESS_KEY": "local",
		"AWS_REGION": region, "AWS_EC2_METADATA_DISABLED": "true",
	}
	full := append([]string{"--endpoint-url", d.c.url}, args...)
	var out, errb bytes.Buffer
	code := cli.Run(ctx, full, cli.Env{
		Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return env[k] },
		Now: d.c.now,
	})
	text := out.String()
	if code != 0 {
		text += errb.String()
	}
	return OperatorView{Command: "phoenix " + strings.Join(args, " "), Output: strings.TrimRight(text, "\n"), Code: code}
}

// printOperator prints a CLI run on the terminal.
func (d *demo) printOperator(v OperatorView) {
	fmt.Fprintf(d.cfg.Out, "\nThe operator's view at the end:\n  $ %s\n", v.Command)
	for _, line := range strings.Split(v.Output, "\n") {
		fmt.Fprintf(d.cfg.Out, "    %s\n", line)
	}
	if v.Code != 0 {
		fmt.Fprintf(d.cfg.Out, "    (exit code %d)\n", v.Code)
	}
}
