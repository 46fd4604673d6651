package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/wormvault/wormvault"
)

// FuzzParse feeds Parse arbitrary documents (seeds in testdata/fuzz/FuzzParse).
// Parse must never panic and must refuse only with InvalidArgument; what it
// accepts must evaluate without panicking and survive a round trip through
// Statements.
func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"statements":[{"effect":"DENY","principals":["*"],"actions":["wormvault:Delete*"],"resources":["vaults/*/archives/*"],"condition":"archive.age_days < 365"}]}`))
	f.Add([]byte(`{"statements":[{"effect":"ALLOW","principals":["alice"],"actions":["*"],"resources":["*"]}]}`))
	f.Add([]byte(`{"statements":[{"effect":"DENY"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse(data)
		if err != nil {
			if !errors.Is(err, wormvault.ErrInvalidArgument) {
				t.Fatalf("Parse error %v is not InvalidArgument", err)
			}
			return
		}
		stmts := p.Statements()
		reqs := []Request{
			{Principal: "alice", Action: "wormvault:DeleteArchive", Resource: "vaults/v1/archives/k", Time: time.Unix(1e9, 0),
				Archive: &ArchiveFacts{Key: "k", AgeDays: 10, RetentionMode: "GOVERNANCE", RetainUntil: time.Unix(2e9, 0)}},
			{Principal: "", Action: "GetVault", Resource: "vaults/v1"},
			{Action: "wormvault:GetArchive", Resource: "vaults/v1/archives/k"},
		}
		for _, r := range reqs {
			d, sid := p.Eval(r)
			if d != NoMatch && !hasSid(stmts, sid) {
				t.Fatalf("Eval = %v with sid %q, which no statement has", d, sid)
			}
		}
		_ = p.CheckLockable("v1")

		// Write the statements back out; the result must parse the same.
		var d document
		for _, s := range stmts {
			d.Statements = append(d.Statements, statementDoc{Sid: s.Sid, Effect: string(s.Effect), Principals: s.Principals, Actions: s.Actions, Resources: s.Resources, Condition: s.Condition})
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(d); err != nil {
			t.Fatal(err)
		}
		if buf.Len() > MaxDocumentSize {
			return
		}
		again, err := Parse(buf.Bytes())
		if err != nil {
			t.Fatalf("written back, the policy no longer parses: %v\n%s", err, buf.Bytes())
		}
		if !reflect.DeepEqual(again.Statements(), stmts) {
			t.Fatalf("round trip changed the statements:\n%+v\n%+v", stmts, again.Statements())
		}
	})
}

func hasSid(stmts []Statement, sid string) bool {
	for _, s := range stmts {
		if s.Sid == sid {
			return true
		}
	}
	return false
}
