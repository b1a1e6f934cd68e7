// Command demo tells Phoenix's five stories on the local cloud, with
// nothing but AWS APIs, and writes an HTML report of what happened:
//
//  1. an image is published and rolled in waves (the canary group, then
//     the next) to finalized;
//  2. a bad image trips the canary's alarm during its bake and is reverted
//     by itself, and the campaign stops before the next wave;
//  3. the nightly schedule recycles a group whose instances are too old:
//     every instance replaced, on the version it ran;
//  4. after one more rollout, the operator reads the image lifecycle's
//     plan, switches the stack to apply, and the nights retire the
//     versions and the image nobody uses while what the groups run, their
//     last-known-good and their rollback history stay; a rollback works;
//  5. a blue/green pair takes a bad image on 10% of its traffic, the
//     guard alarm on the new target group fires, and all the traffic is
//     back on the old group in one call, the new group scaled down.
//
// It starts a stepped local cloud with DynamoDB, deploys template.yaml with
// the built functions (make functions), creates two groups behind their
// load balancers (and, for story 5, a pair behind a third) and drives
// everything through the AWS SDK; only the simulated clock is stepped in
// process. `make demo` runs it; -fast is the
// shorter run the tests use.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"
)

func main() {
	os.Exit(realMain(os.Args[1:]))
}

func realMain(args []string) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fast := fs.Bool("fast", false, "shorter run: two instances a group and shorter pauses (the tests' mode)")
	seed := fs.Uint64("seed", 1, "seed of the local cloud's ids and jitter")
	tpl := fs.String("template", "template.yaml", "the SAM template to deploy")
	fns := fs.String("functions", "bin/functions", "folder of built function bootstraps (make functions)")
	report := fs.String("report", filepath.Join(os.TempDir(), "phoenix-demo", "report.html"), "where to write the HTML report")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "demo: unexpected arguments %v\n", fs.Args())
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := run(ctx, Config{
		Fast: *fast, Seed: *seed, Template: *tpl, Functions: *fns, Report: *report, Out: os.Stdout, Wall: time.Now,
	})
	code := 0
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		code = 1
	}
	if rep == nil {
		return 1
	}
	if err := rep.write(*report); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		return 1
	}
	told := 0
	for _, s := range rep.Stories {
		if s.N > 0 && s.AsTold {
			told++
		}
	}
	fmt.Printf("\n%d of %d stories went as told; %.0f s of wall time.\nReport: %s\n", told, storyCount, rep.WallSeconds, *report)
	if told != storyCount {
		code = 1
	}
	return code
}
