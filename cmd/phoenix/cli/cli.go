// Package cli is the phoenix operator command line: status, history, plan,
// rollout, rollback, halt, resume, images (plan, restore) and shell
// completion. It talks only AWS APIs (Auto Scaling, EC2, Elastic Load
// Balancing, DynamoDB, Step Functions, STS, Lambda), so it works the same
// against AWS and against the local cloud, and it reuses the shared packages
// the functions use (ledger, fleet, notify, images, publish, rollout,
// lifecycle, bluegreen) rather than reading
// Phoenix's items and documents a second way. docs/cli.md documents the commands, their JSON and their exit
// codes.
//
// Run is the whole program; cmd/phoenix/main.go only wires the process's
// environment into Env, and tests call Run in process with their own.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// Exit codes. docs/cli.md and the root command's help list them; scripts
// depend on them, so they never change meaning.
const (
	// ExitOK: the command did what was asked (a waited-for rollout
	// finalized, or reverted when a rollback asked for that).
	ExitOK = 0
	// ExitFailed: the operation failed: a rollout was refused, reverted or
	// ended dirty, or AWS refused a call for a reason not listed below.
	ExitFailed = 1
	// ExitUsage: bad usage: an unknown command or flag, a missing
	// argument, a bad value.
	ExitUsage = 2
	// ExitNotFound: something named does not exist: a group, a rollout, a
	// launch template version, an image, the Phoenix stack itself.
	ExitNotFound = 3
	// ExitUnreachable: AWS cannot be reached or will not take the
	// credentials: none found, invalid, expired or not allowed, or the
	// endpoint is down.
	ExitUnreachable = 4
	// ExitHalted: Phoenix is halted for the group, so nothing was started
	// (or a waited-for rollout was refused or reverted by the halt).
	ExitHalted = 5
)

// DefaultStack is the stack name when neither --stack nor PHOENIX_STACK
// says otherwise (what `sam deploy --guided` suggests in the README).
const DefaultStack = "phoenix"

// EnvStack names the environment variable that sets the default --stack.
const EnvStack = "PHOENIX_STACK"

// Env is the world the CLI runs in. main.go fills it from the process;
// tests give their own, so that no test reads the developer's environment
// or sleeps in wall time.
type Env struct {
	Stdout io.Writer
	Stderr io.Writer
	// Getenv reads the environment: PHOENIX_STACK, and every AWS_*
	// setting the CLI reads itself (region, endpoint, credentials, profile,
	// shared config files under HOME, AWS_EC2_METADATA_DISABLED). Nil means
	// os.Getenv.
	Getenv func(string) string
	// Terminal says Stdout is a terminal: --wait then draws a progress bar
	// in place instead of printing one line per change.
	Terminal bool
	// Now is the current time (halts and signals are stamped with it);
	// nil means time.Now. Tests on the local cloud give its simulated clock.
	Now func() time.Time
	// Sleep waits between two looks of --wait; nil means a timer. Tests on
	// the stepped local cloud advance the simulated clock instead.
	Sleep func(ctx context.Context, d time.Duration) error
}

// withDefaults fills the nil members of e.
func (e Env) withDefaults() Env {
	if e.Stdout == nil {
		e.Stdout = os.Stdout
	}
	if e.Stderr == nil {
		e.Stderr = os.Stderr
	}
	if e.Getenv == nil {
		e.Getenv = os.Getenv
	}
	if e.Now == nil {
		e.Now = time.Now
	}
	if e.Sleep == nil {
		e.Sleep = func(ctx context.Context, d time.Duration) error {
			t := time.NewTimer(d)
			defer t.Stop()
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-t.C:
				return nil
			}
		}
	}
	return e
}

// Run runs the command line args (without the program name) and returns
// the exit code. Errors are printed to env.Stderr as one line starting
// with "phoenix: ".
func Run(ctx context.Context, args []string, env Env) int {
	a := &app{env: env.withDefaults()}
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetOut(a.env.Stdout)
	root.SetErr(a.env.Stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	e := asExit(err)
	fmt.Fprintln(a.env.Stderr, "phoenix: "+oneLine(e.msg))
	return e.code
}

// exitError is an error with the exit code it ends the program with.
// Every command returns its failures as one, so that an error that is not
// one came from cobra itself: bad usage.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// fail returns an exitError with a formatted message.
func fail(code int, format string, args ...any) error {
	return &exitError{code: code, msg: fmt.Sprintf(format, args...)}
}

// usage is a bad-usage error.
func usage(format string, args ...any) error { return fail(ExitUsage, format, args...) }

// asExit turns any error Run meets into an exitError: ours keep their
// code, anything else is cobra refusing the command line.
func asExit(err error) *exitError {
	var e *exitError
	if errors.As(err, &e) {
		return e
	}
	return &exitError{code: ExitUsage, msg: err.Error() + " (see phoenix --help)"}
}

// oneLine keeps an error message on one line, whatever an API put in it.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if s == "" {
		return "failed"
	}
	return s
}

// Output formats.
const (
	outputTable = "table"
	outputJSON  = "json"
)

// globals are the flags every command takes.
type globals struct {
	stack    string
	region   string
	endpoint string
	output   string
	debug    bool
}

// app is one run of the CLI.
type app struct {
	env  Env
	g    globals
	sess *session
}

const rootLong = `phoenix operates Phoenix, which rolls new AMIs into EC2 Auto Scaling groups
by instance refresh, validates at checkpoints, and finalizes or reverts on its own.

It talks only AWS APIs (Auto Scaling, EC2, Elastic Load Balancing, DynamoDB,
Step Functions, STS, Lambda), with the SDK's usual credentials and region, so it
works the same against AWS and against the local cloud (--endpoint-url).

It finds Phoenix by its stack name (--stack): the rollout state machine
STACK-rollout and the ledger table STACK-ledger.

Exit codes:
  0  ok
  1  the operation failed (a rollout refused, reverted or dirty; an AWS error)
  2  bad usage (unknown command or flag, missing argument, bad value)
  3  not found (group, rollout, launch template version, image, stack)
  4  cannot reach or authenticate to AWS (no credentials, endpoint down)
  5  halted (Phoenix is halted for the group; nothing was started)`

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "phoenix",
		Short:         "Operate Phoenix rollouts: status, history, plan, rollout, rollback, halt, resume, images",
		Long:          rootLong,
		SilenceErrors: true,
		SilenceUsage:  true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			switch a.g.output {
			case outputTable, outputJSON:
			default:
				return usage("--output must be table or json, not %q", a.g.output)
			}
			if strings.TrimSpace(a.g.stack) == "" {
				return usage("--stack must name the Phoenix stack")
			}
			return nil
		},
	}
	stack := a.env.Getenv(EnvStack)
	if stack == "" {
		stack = DefaultStack
	}
	pf := root.PersistentFlags()
	pf.StringVar(&a.g.stack, "stack", stack, "the Phoenix stack's name (env "+EnvStack+")")
	pf.StringVar(&a.g.region, "region", "", "AWS region (default: AWS_REGION, AWS_DEFAULT_REGION, then the profile's)")
	pf.StringVar(&a.g.endpoint, "endpoint-url", "", "send every AWS call to this URL, e.g. the local cloud (default: AWS_ENDPOINT_URL)")
	pf.StringVarP(&a.g.output, "output", "o", outputTable, "output format: table or json")
	pf.BoolVar(&a.g.debug, "debug", false, "log every AWS change the shared packages make, as JSON on stderr")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usage("%v (see --help)", err) })
	root.AddCommand(
		a.statusCommand(), a.historyCommand(), a.planCommand(), a.rolloutCommand(), a.rollbackCommand(),
		a.haltCommand(), a.resumeCommand(), a.imagesCommand(),
	)
	return root
}

// argsUsage wraps a cobra argument check so that a wrong count is a usage
// error with the command's use line.
func argsUsage(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := check(cmd, args); err != nil {
			return usage("%v; usage: %s", err, cmd.UseLine())
		}
		return nil
	}
}
