package policy

import (
	"encoding/json"
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/cel-go/common/types"

	"github.com/wormvault/wormvault"
)

// archiveResource is isArchiveResource restated: "vaults/NAME/archives/…".
var archiveResource = regexp.MustCompile(`^vaults/[^/]+/archives/`)

// FuzzCondition puts a fuzzed CEL condition into a statement that matches
// every request, once as ALLOW and once as DENY, and evaluates the policies
// that parse against a fuzzed request. Properties:
//   - Parse never panics, and refuses a condition exactly when it does not
//     compile, with an InvalidArgument naming the condition;
//   - evaluation is deterministic (the same request twice, the same answer);
//   - the condition sees the request as documented: its outcome equals that
//     of the same program run over a plain map of the request's facts;
//   - a condition that fails to evaluate never allows: the ALLOW statement
//     does not apply and the DENY statement denies.
func FuzzCondition(f *testing.F) {
	f.Add(`archive.age_days < 365 && request.principal != "root"`, "alice", "DeleteArchive", "vaults/photos/archives/cat.jpg", "",
		true, "cat.jpg", int64(1024), int64(10), "GOVERNANCE", int64(2e9), false, int64(1.9e9), true, false, "SSE_KMS", "ap-1", "10.1.2.3")
	f.Fuzz(func(t *testing.T, cond, principal, action, resource, vault string,
		hasArchive bool, key string, size, ageDays int64, mode string, retainUntil int64, hold bool,
		now int64, secure, mfa bool, encryption, accessPoint, sourceIP string,
	) {
		c, compileErr := compileCondition(cond)
		allow, allowErr := Parse(conditionDoc(EffectAllow, cond))
		deny, denyErr := Parse(conditionDoc(EffectDeny, cond))
		if (allowErr == nil) != (denyErr == nil) {
			t.Fatalf("ALLOW parses: %v, DENY parses: %v", allowErr, denyErr)
		}
		if allowErr != nil {
			if !errors.Is(allowErr, wormvault.ErrInvalidArgument) {
				t.Fatalf("Parse error %v is not InvalidArgument", allowErr)
			}
			// Invalid UTF-8 is written as U+FFFD by json.Marshal, so Parse
			// saw another condition; an empty one means no condition.
			if utf8.ValidString(cond) && cond != "" {
				if compileErr == nil {
					t.Fatalf("Parse refused %q (%v), which compiles", cond, allowErr)
				}
				if !strings.Contains(allowErr.Error(), "condition ") {
					t.Fatalf("Parse error %v does not name the condition", allowErr)
				}
			}
			return
		}
		if !utf8.ValidString(cond) || cond == "" {
			return
		}
		if compileErr != nil {
			t.Fatalf("Parse accepted %q, which does not compile: %v", cond, compileErr)
		}
		if got := allow.Statements()[0].Condition; got != cond {
			t.Fatalf("statement condition = %q, written %q", got, cond)
		}

		r := Request{
			Principal: principal, Action: action, Resource: resource, Vault: vault,
			SecureTransport: secure, MFAPresent: mfa, Encryption: encryption,
			Time: time.Unix(now, 0).UTC(), AccessPoint: accessPoint, SourceIP: sourceIP,
		}
		if hasArchive {
			r.Archive = &ArchiveFacts{Key: key, SizeBytes: size, AgeDays: ageDays, RetentionMode: mode,
				RetainUntil: time.Unix(retainUntil, 0).UTC(), LegalHold: hold}
		}

		var in *facts
		got := c.eval(&in, &r)
		if again := c.eval(&in, &r); again != got {
			t.Fatalf("condition evaluated to %v, then %v", got, again)
		}
		if want := oracle(c, &r); got != want {
			t.Fatalf("condition over the request = %v, over a plain map of its facts = %v", got, want)
		}

		da, _ := allow.Eval(r)
		dd, _ := deny.Eval(r)
		if da2, _ := allow.Eval(r); da2 != da {
			t.Fatalf("ALLOW policy decided %v, then %v", da, da2)
		}
		if dd2, _ := deny.Eval(r); dd2 != dd {
			t.Fatalf("DENY policy decided %v, then %v", dd, dd2)
		}
		wantA, wantD := NoMatch, NoMatch
		switch got {
		case condTrue:
			wantA, wantD = Allow, Deny
		case condError:
			wantD = Deny // fails closed
		}
		if da != wantA || dd != wantD {
			t.Fatalf("condition %v: ALLOW policy %v (want %v), DENY policy %v (want %v)", got, da, wantA, dd, wantD)
		}
		if d, _ := Decide(r, allow, deny); d != max(da, dd) {
			t.Fatalf("Decide = %v from ALLOW %v and DENY %v", d, da, dd)
		}
	})
}

// conditionDoc is a one-statement policy that matches every request, so
// only its condition decides whether it applies.
func conditionDoc(effect Effect, cond string) []byte {
	b, err := json.Marshal(document{Statements: []statementDoc{{
		Effect: string(effect), Principals: []string{"*"}, Actions: []string{"*"}, Resources: []string{"*"}, Condition: cond,
	}}})
	if err != nil {
		panic(err)
	}
	return b
}

// oracle is what the condition should come to, by the documented meaning
// of each variable, computed over a plain map rather than the facts
// activation.
func oracle(c *condition, r *Request) outcome {
	if c.alwaysTrue {
		return condTrue
	}
	if c.readsArchive && r.Archive == nil && !archiveResource.MatchString(r.Resource) {
		return condNotApplicable
	}
	act := r.Action
	if !strings.HasPrefix(act, ActionPrefix) && slices.Contains(Actions(), ActionPrefix+act) {
		act = ActionPrefix + act
	}
	vault := r.Vault
	if vault == "" {
		if rest, ok := strings.CutPrefix(r.Resource, "vaults/"); ok {
			vault, _, _ = strings.Cut(rest, "/")
		}
	}
	vars := map[string]any{
		"request.principal":        r.Principal,
		"request.action":           act,
		"request.secure_transport": r.SecureTransport,
		"request.mfa_present":      r.MFAPresent,
		"request.encryption":       r.Encryption,
		"request.time":             r.Time,
		"request.access_point":     r.AccessPoint,
		"request.source_ip":        r.SourceIP,
		"vault.name":               vault,
	}
	if a := r.Archive; a != nil {
		vars["archive.key"] = a.Key
		vars["archive.size_bytes"] = a.SizeBytes
		vars["archive.age_days"] = a.AgeDays
		vars["archive.retention_mode"] = a.RetentionMode
		vars["archive.retain_until"] = a.RetainUntil
		vars["archive.legal_hold"] = a.LegalHold
	}
	out, _, err := c.prg.Eval(vars)
	switch {
	case err != nil:
		return condError
	case out == types.True:
		return condTrue
	case out == types.False:
		return condFalse
	}
	return condError
}
