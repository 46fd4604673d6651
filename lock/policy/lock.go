package policy

import "fmt"

// readActions are the actions without which nobody can get an archive back.
var readActions = []string{"wormvault:DownloadArchive", "wormvault:GetArchive"}

// OnlyDeny returns an InvalidArgument naming the first ALLOW statement, or
// nil. A vault-lock policy may only take permissions away: once locked it
// cannot change, and an ALLOW there would be a grant nobody could revoke.
func (p *Policy) OnlyDeny() error {
	for i := range p.stmts {
		if s := &p.stmts[i]; !s.deny {
			return invalid("%s: a vault-lock policy may hold only DENY statements", s.where(i))
		}
	}
	return nil
}

// DeniesReadsUnconditionally reports whether a statement denies
// wormvault:DownloadArchive or wormvault:GetArchive to every principal ("*")
// on every archive of vault, without a condition (or with the condition
// `true`). Each statement is judged alone.
func (p *Policy) DeniesReadsUnconditionally(vault string) bool {
	return p.readBlocker(vault) >= 0
}

// readBlocker returns the index of the first statement that denies reads
// as DeniesReadsUnconditionally describes, or -1.
func (p *Policy) readBlocker(vault string) int {
	everyArchive := "vaults/" + vault + "/archives/"
	for i := range p.stmts {
		s := &p.stmts[i]
		if !s.deny || !s.anyPrincipal || (s.cond != nil && !s.cond.alwaysTrue) {
			continue
		}
		reads := false
		for _, a := range readActions {
			reads = reads || s.actions.has(indexOfAction(a))
		}
		if !reads {
			continue
		}
		for _, g := range s.resourceGlobs {
			if g.coversPrefix(everyArchive) {
				return i
			}
		}
	}
	return -1
}

// CheckLockable returns nil when the policy may become vault's lock policy:
// only DENY statements (OnlyDeny), and none that would lock every reader out
// for good (DeniesReadsUnconditionally). Otherwise an InvalidArgument.
func (p *Policy) CheckLockable(vault string) error {
	if err := p.OnlyDeny(); err != nil {
		return err
	}
	if i := p.readBlocker(vault); i >= 0 {
		return invalid("%s: a locked vault nobody can read is a destroyed vault: it denies reads of every archive in %q to everyone, unconditionally", p.stmts[i].where(i), vault)
	}
	return nil
}

// where names a statement in errors: statements[2] (sid "KeepYear").
func (s *statement) where(i int) string {
	if s.Sid == "" {
		return fmt.Sprintf("statements[%d]", i)
	}
	return fmt.Sprintf("statements[%d] (sid %q)", i, s.Sid)
}
