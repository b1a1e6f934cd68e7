package rollout

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
)

// Typed returns the first of the domain's typed errors in err's chain, or
// err itself when it holds none. aws-lambda-go names the outermost error's
// type as errorType, and Step Functions' Retry and Catch match that name:
// a wrapped error would match nothing but States.ALL.
func Typed(err error) error {
	var (
		lease     *LeaseHeldError
		preflight *PreflightError
		foreign   *ForeignRefreshError
		inProg    *RefreshInProgressError
		revert    *RevertFailedError
		bad       *BadInputError
		stale     *StaleTokenError
		transient *TransientError
		notFound  *NotFoundError
	)
	switch {
	case errors.As(err, &lease):
		return lease
	case errors.As(err, &preflight):
		return preflight
	case errors.As(err, &foreign):
		return foreign
	case errors.As(err, &inProg):
		return inProg
	case errors.As(err, &revert):
		return revert
	case errors.As(err, &bad):
		return bad
	case errors.As(err, &stale):
		return stale
	case errors.As(err, &transient):
		return transient
	case errors.As(err, &notFound):
		return notFound
	}
	return err
}

// Boundary is the last thing a Lambda handler does with its error: it logs
// the failure once, saying what failed, and returns the typed error (Typed)
// so that Lambda reports its type name. nil stays nil.
func Boundary(log *slog.Logger, what string, err error) error {
	if err == nil {
		return nil
	}
	out := Typed(err)
	log.Error(what+" failed", "error", err.Error(), "errorType", fmt.Sprintf("%T", out))
	return out
}

// InvocationLogger returns base (a JSON logger on stderr when nil) with the
// invocation's attributes from ctx (the Lambda request id and trace id, when
// contextAttrs is set) and the given ones.
func InvocationLogger(ctx context.Context, base *slog.Logger, contextAttrs func(context.Context) []any, attrs ...any) *slog.Logger {
	l := base
	if l == nil {
		l = slog.New(slog.NewJSONHandler(os.Stderr, nil))
	}
	if len(attrs) > 0 {
		l = l.With(attrs...)
	}
	if contextAttrs != nil {
		l = l.With(contextAttrs(ctx)...)
	}
	return l
}
