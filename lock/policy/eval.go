package policy

import (
	"strings"
	"time"
)

// Request is what a policy is asked about: who does what to which resource,
// and the facts conditions may test. The server fills it in; the zero value
// of each fact is what a condition sees when the fact is unknown.
type Request struct {
	// Principal is the caller's name. "" (anonymous) matches only "*".
	Principal string
	// Action is "wormvault:DeleteArchive"; the bare "DeleteArchive" is
	// accepted too.
	Action string
	// Resource is "vaults/NAME" for requests about a vault and
	// "vaults/NAME/archives/KEY" for requests about an archive.
	Resource string

	SecureTransport bool
	MFAPresent      bool
	// Encryption names the encryption an upload asked for ("SERVICE", "KMS", ...), "" when it relies on the vault default.
	Encryption string
	// Time is the trusted time of the decision (passed in, never read here).
	Time        time.Time
	AccessPoint string
	SourceIP    string

	// Archive holds the facts about the archive the request is about, nil
	// when it is about none. The server must set it for every request whose
	// Resource names an archive: conditions reading archive.* fail closed
	// when it does not.
	Archive *ArchiveFacts
	// Vault is the vault's name; "" means the one Resource names.
	Vault string
}

// ArchiveFacts are the archive.* variables.
type ArchiveFacts struct {
	Key       string
	SizeBytes int64
	AgeDays   int64
	// RetentionMode is "", "GOVERNANCE" or "COMPLIANCE"; with "", RetainUntil
	// is the zero time (0001-01-01T00:00:00Z).
	RetentionMode string
	RetainUntil   time.Time
	LegalHold     bool
}

// Decision is what policies say about a request.
type Decision int

const (
	// NoMatch: no statement applies. The caller decides what silence means
	// (for a vault access policy: the principal's own permissions).
	NoMatch Decision = iota
	// Allow: an ALLOW statement applies and no DENY does.
	Allow
	// Deny: a DENY statement applies. An explicit deny always wins.
	Deny
)

func (d Decision) String() string {
	switch d {
	case NoMatch:
		return "NO_MATCH"
	case Allow:
		return "ALLOW"
	case Deny:
		return "DENY"
	}
	return "Decision(?)"
}

// Eval decides the request by this policy alone and returns the decision
// and the sid of the statement that decided it ("" for NoMatch or a
// statement without a sid).
//
// A statement applies when the principal, the action and the resource each
// match one of its entries and its condition, if any, holds. Any applying
// DENY makes the answer Deny (the first in document order names it);
// otherwise the first applying ALLOW makes it Allow. A condition that fails
// to evaluate counts as holding for DENY and as not holding for ALLOW.
//
// Eval is safe for concurrent use.
func (p *Policy) Eval(r Request) (Decision, string) {
	if p == nil {
		return NoMatch, ""
	}
	act := indexOfAction(r.Action)
	var in *facts
	allow := -1
	for i := range p.stmts {
		s := &p.stmts[i]
		if !s.deny && allow >= 0 {
			continue // one ALLOW is enough; only a DENY can change the answer now
		}
		if !s.matches(act, &r) {
			continue
		}
		if s.cond != nil {
			switch s.cond.eval(&in, &r) {
			case condTrue:
			case condError:
				if !s.deny {
					continue
				}
			default:
				continue
			}
		}
		if s.deny {
			return Deny, s.Sid
		}
		allow = i
	}
	if allow >= 0 {
		return Allow, p.stmts[allow].Sid
	}
	return NoMatch, ""
}

// Decide decides the request across several policies (a vault's access
// policy, its lock policy, the caller's identity policy): any Deny wins,
// else any Allow, else NoMatch. Nil policies are skipped.
func Decide(r Request, policies ...*Policy) (Decision, string) {
	decision, sid := NoMatch, ""
	for _, p := range policies {
		switch d, s := p.Eval(r); d {
		case Deny:
			return Deny, s
		case Allow:
			if decision == NoMatch {
				decision, sid = Allow, s
			}
		}
	}
	return decision, sid
}

// matches tests principal, action and resource; the condition comes later.
func (s *statement) matches(act int, r *Request) bool {
	if !s.anyPrincipal {
		found := false
		for _, p := range s.principals {
			if p == r.Principal {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	if act >= 0 {
		if !s.actions.has(act) {
			return false
		}
	} else if !matchAny(s.actionGlobs, r.Action) {
		return false
	}
	return s.anyResource || matchAny(s.resourceGlobs, r.Resource)
}

func matchAny(globs []glob, s string) bool {
	for _, g := range globs {
		if g.match(s) {
			return true
		}
	}
	return false
}

// vaultOf returns NAME from "vaults/NAME" or "vaults/NAME/archives/KEY".
func vaultOf(resource string) string {
	rest, ok := strings.CutPrefix(resource, "vaults/")
	if !ok {
		return ""
	}
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		return rest[:i]
	}
	return rest
}

// isArchiveResource reports whether resource is "vaults/NAME/archives/KEY".
func isArchiveResource(resource string) bool {
	rest, ok := strings.CutPrefix(resource, "vaults/")
	if !ok {
		return false
	}
	i := strings.IndexByte(rest, '/')
	return i > 0 && strings.HasPrefix(rest[i:], "/archives/")
}
