package vault

import (
	"hash/maphash"
	"sync"
)

// objectLocks serializes the operations on one erasure object that must not
// overlap (heal, scrub, delete, sweep): erasure leaves that to its caller. It
// is striped so unrelated objects rarely contend.
type objectLocks struct {
	seed    maphash.Seed
	stripes [256]sync.Mutex
}

func newObjectLocks() *objectLocks { return &objectLocks{seed: maphash.MakeSeed()} }

// lock locks id's stripe and returns the unlock.
func (l *objectLocks) lock(id string) func() {
	m := &l.stripes[maphash.String(l.seed, id)%uint64(len(l.stripes))]
	m.Lock()
	return m.Unlock
}
