// Command phoenix-localcloud runs Phoenix's local cloud: a simulator of the
// AWS services Phoenix uses, on one endpoint, speaking the real AWS wire
// protocols. `phoenix-localcloud demo` walks through a rollout on it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/phoenix-rollouts/phoenix/test/localcloud"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/deploy"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "invoke" {
		if err := runInvoke(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "invoke:", err)
			os.Exit(1)
		}
		return
	}
	if len(os.Args) > 1 && os.Args[1] == "demo" {
		if err := runDemo(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "demo:", err)
			os.Exit(1)
		}
		return
	}
	if err := serve(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "phoenix-localcloud:", err)
		os.Exit(1)
	}
}

func serve(args []string) error {
	fs := flag.NewFlagSet("phoenix-localcloud", flag.ContinueOnError)
	addr := fs.String("addr", envOr("PHOENIX_LOCAL_ADDR", "127.0.0.1:4566"), "listen address (env PHOENIX_LOCAL_ADDR)")
	speed := fs.Float64("speed", envFloat("PHOENIX_LOCAL_SPEED", 60), "simulated seconds per wall second in real-time mode (env PHOENIX_LOCAL_SPEED)")
	stepped := fs.Bool("stepped", false, "stepped mode: time moves only through POST /_phoenix/clock/advance")
	seed := fs.Uint64("seed", 1, "seed for ids, probabilistic faults and jitter")
	verbose := fs.Bool("v", false, "log every request")
	template := fs.String("template", "template.yaml", "SAM template to deploy at start")
	noDeploy := fs.Bool("no-deploy", false, "do not deploy the template")
	noDynamo := fs.Bool("no-dynamodb", false, "do not start dynalite (DynamoDB); templates with tables then fail to deploy")
	binDir := fs.String("functions", "bin/functions", "folder of built function bootstraps (make functions)")
	iamMode := fs.String("iam", "on", "IAM enforcement of deployed functions' and state machines' calls: on, or off for debugging (env "+localcloud.IAMEnvVar+"=off also turns it off)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *speed <= 0 {
		return fmt.Errorf("-speed must be positive, got %v", *speed)
	}
	if *iamMode != "on" && *iamMode != "off" {
		return fmt.Errorf("-iam must be on or off, got %q", *iamMode)
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	logger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *addr, err)
	}
	cloud, err := localcloud.New(localcloud.Options{Realtime: !*stepped, Speed: *speed, Seed: *seed, Logger: logger,
		Endpoint: "http://" + l.Addr().String(), DynamoDB: !*noDynamo, IAMOff: *iamMode == "off"})
	if err != nil {
		l.Close()
		return err
	}
	defer cloud.Close()
	deployed := "nothing (-no-deploy)"
	if !*noDeploy {
		deployed, err = deployTemplate(cloud, *template, *binDir)
		if err != nil {
			l.Close()
			return err
		}
	}
	mode := fmt.Sprintf("real time x%g (one wall second is %g simulated seconds)", *speed, *speed)
	if *stepped {
		mode = "stepped (advance with POST /_phoenix/clock/advance)"
	}
	fmt.Printf("Phoenix local cloud on http://%s\n", l.Addr())
	fmt.Printf("  clock:    %s, starting %s\n", mode, cloud.Clock.Now().Format("2006-01-02T15:04:05Z"))
	fmt.Printf("  services: %s\n", localcloud.ServiceSummary)
	fmt.Printf("  admin:    http://%s%s\n", l.Addr(), localcloud.AdminPrefix)
	fmt.Printf("  deployed: %s\n", deployed)
	fmt.Printf("  try:      aws --endpoint-url http://%s ec2 describe-images --owners self\n", l.Addr())
	fmt.Println("Ctrl-C stops it.")
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := cloud.Serve(ctx, l); err != nil {
		return err
	}
	fmt.Println("stopped")
	return nil
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func envFloat(key string, def float64) float64 {
	if v := os.Getenv(key); v != "" {
		if f, err := strconv.ParseFloat(v, 64); err == nil {
			return f
		}
		fmt.Fprintf(os.Stderr, "ignoring %s=%q: not a number\n", key, v)
	}
	return def
}

// deployTemplate deploys the SAM template if it exists and says what it did.
func deployTemplate(cloud *localcloud.Cloud, path, binDir string) (string, error) {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return fmt.Sprintf("nothing (no %s here)", path), nil
	}
	abs, err := filepath.Abs(binDir)
	if err != nil {
		return "", err
	}
	st, err := deploy.File(context.Background(), cloud, path, deploy.Options{BinDir: abs})
	if err != nil {
		return "", err
	}
	msg := fmt.Sprintf("%s as stack %s (%d resources)", path, st.Name, len(st.Order))
	if cloud.IAMEnforced() {
		msg += "; IAM enforced on every function's and state machine's calls"
	} else {
		msg += "; IAM NOT enforced (-iam=off or " + localcloud.IAMEnvVar + "=off)"
	}
	if len(st.Unenforced) > 0 {
		msg += fmt.Sprintf("; accepted without enforcing: %s", strings.Join(st.Unenforced, ", "))
	}
	return msg, nil
}
