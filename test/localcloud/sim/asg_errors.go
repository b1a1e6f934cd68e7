package sim

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
)

// Auto Scaling error codes, as the SDK's types package names them.
const (
	codeAlreadyExists                 = "AlreadyExists"
	codeResourceInUse                 = "ResourceInUse"
	codeScalingActivityInProgress     = "ScalingActivityInProgress"
	codeInstanceRefreshInProgress     = "InstanceRefreshInProgress"
	codeActiveInstanceRefreshNotFound = "ActiveInstanceRefreshNotFound"
	codeIrreversibleInstanceRefresh   = "IrreversibleInstanceRefresh"
	codeInvalidNextToken              = "InvalidNextToken"
	codeLimitExceeded                 = "LimitExceeded"
)

// asgError returns an Auto Scaling client error with the given code.
func asgError(code, format string, args ...any) *api.Error {
	return api.Errorf(http.StatusBadRequest, code, format, args...)
}

// missing returns the error AWS's request validation gives for an absent
// required member.
func missing(member string) *api.Error {
	return api.Validation("1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", member)
}

// outOfRange returns AWS's constraint error for a number outside its range.
func outOfRange(member string, v int64, lo, hi int64) *api.Error {
	if v < lo {
		return api.Validation("1 validation error detected: Value '%d' at '%s' failed to satisfy constraint: Member must have value greater than or equal to %d", v, member, lo)
	}
	return api.Validation("1 validation error detected: Value '%d' at '%s' failed to satisfy constraint: Member must have value less than or equal to %d", v, member, hi)
}

// groupNotFound is the ValidationError AWS answers for an unknown group.
func groupNotFound(name string) *api.Error {
	return api.Validation("AutoScalingGroup name not found - AutoScalingGroup %s not found", name)
}

// pageBounds turns NextToken and MaxRecords into a window [start, end) of
// n items and the token for the next page ("" when none). Tokens are opaque
// to clients; a token that did not come from this model is refused the way
// AWS refuses one.
func pageBounds(token *string, maxRecords *int32, def, limit int32, n int) (start, end int, next string, err error) {
	size := def
	if maxRecords != nil {
		if *maxRecords < 1 || *maxRecords > limit {
			return 0, 0, "", outOfRange("maxRecords", int64(*maxRecords), 1, int64(limit))
		}
		size = *maxRecords
	}
	if token != nil && *token != "" {
		raw, decErr := base64.RawURLEncoding.DecodeString(*token)
		off, convErr := strconv.Atoi(strings.TrimPrefix(string(raw), "offset:"))
		if decErr != nil || convErr != nil || !strings.HasPrefix(string(raw), "offset:") || off < 0 || off > n {
			return 0, 0, "", asgError(codeInvalidNextToken, "The token '%s' is invalid.", *token)
		}
		start = off
	}
	end = min(start+int(size), n)
	if end < n {
		next = base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf("offset:%d", end)))
	}
	return start, end, next, nil
}

// tokenPtr returns nil for "" so that outputs carry no empty NextToken.
func tokenPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
