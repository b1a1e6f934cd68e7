package executions

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/phoenix-rollouts/phoenix/shared/awserr"
	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// staleCodes are Step Functions' answers for a token that no longer waits.
//
// TaskTimedOut is its answer for a task that has ended in any way: already
// answered (a duplicate or late resume), failed, timed out, or aborted with
// its execution. The message is "Task Timed Out: 'Provided task does not
// exist anymore'" whichever way the task ended (users report it from AWS for
// late and for repeated callbacks, aws-samples/amazon-mwaa-examples#61); the
// API reference gives it as "The task token has either expired or the task
// associated with the token has already been closed".
//
// InvalidToken is its answer for a token it never issued ("The provided
// token is not valid"); AWS answers it, "Invalid Token: 'Invalid token'", for
// a made-up token.
//
// TaskDoesNotExist is stale too. The API reference gives it as "The
// activity does not exist", an error of activity tasks, which Phoenix does
// not use, and AWS answers the two above for callback tokens; but other
// emulators (LocalStack) answer it for a task that ended without timing
// out, and whatever it means, no task of that token waits: treating it as
// an error would page a human, and retry a resume that can never land, for
// a task that is gone either way.
var staleCodes = map[string]bool{"TaskTimedOut": true, "InvalidToken": true, "TaskDoesNotExist": true}

// Resumer is rollout.Resumer over Step Functions SendTaskSuccess.
type Resumer struct {
	sfn ResumeAPI
	log *slog.Logger
}

var _ rollout.Resumer = (*Resumer)(nil)

// NewResumer returns a Resumer using a client made from cfg. A nil log
// means slog.Default().
func NewResumer(cfg aws.Config, log *slog.Logger) *Resumer {
	return NewResumerFromClient(sfn.NewFromConfig(cfg), log)
}

// NewResumerFromClient returns a Resumer using client.
func NewResumerFromClient(client ResumeAPI, log *slog.Logger) *Resumer {
	if log == nil {
		log = slog.Default()
	}
	return &Resumer{sfn: client, log: log}
}

// Resume completes the parked task holding token with s as its output
// (the Await state puts it at $.signal). A token that is no longer waiting
// is a *rollout.StaleTokenError, which callers take for "someone else woke
// it already"; an empty token is a *rollout.BadInputError. The token is
// never logged, only a short hash of it, because it is a credential for the
// execution. Its lines are Debug: the calling step logs the wake-up once,
// with the rollout's ids.
func (r *Resumer) Resume(ctx context.Context, token string, s rollout.Signal) error {
	if token == "" {
		return &rollout.BadInputError{Reason: "no task token to resume"}
	}
	out, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("encode signal: %w", err)
	}
	tok := TokenHash(token)
	_, err = r.sfn.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(token), Output: aws.String(string(out))})
	if err != nil {
		if code := awserr.Code(err); staleCodes[code] {
			r.log.DebugContext(ctx, "task token no longer waiting", "token", tok, "code", code, "signal", s.Kind, "refreshId", s.RefreshID, "seq", s.Seq)
			return &rollout.StaleTokenError{Err: err}
		}
		return awserr.Classify("resume task "+tok, err, "task", tok)
	}
	r.log.DebugContext(ctx, "resumed parked task", "token", tok, "signal", s.Kind, "refreshId", s.RefreshID, "seq", s.Seq)
	return nil
}

// TokenHash returns a short, stable, non-reversible name for a task token,
// fit for logs: the first 12 hex digits of its SHA-256.
func TokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return "sha256:" + hex.EncodeToString(sum[:])[:12]
}
