package vault

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/wormvault/wormvault/lock"
	recordv1 "github.com/wormvault/wormvault/proto/wormvault/record/v1"
	"github.com/wormvault/wormvault/vault/audit"
)

// clockWatch remembers which untrusted episode of the clock the audit
// trail already records, so each is recorded once.
type clockWatch struct {
	mu      sync.Mutex
	audited time.Time // Since of the last episode recorded
}

// TickClock checks the trusted clock and persists its mark (the server
// calls it every few seconds). When the clock has just turned untrusted
// (a forward jump of the wall clock, or an unverifiable downtime at
// startup) it records a CLOCK_UNTRUSTED event: a clock anomaly is a change
// to the rules' inputs, and the trail must show when decisions stopped.
func (s *Store) TickClock(ctx context.Context) error {
	if err := s.clock.Tick(); err != nil {
		return err
	}
	st := s.clock.Status()
	if st.State != lock.ClockUntrusted {
		return nil
	}
	s.clockWatch.mu.Lock()
	defer s.clockWatch.mu.Unlock()
	if st.Since.Equal(s.clockWatch.audited) {
		return nil
	}
	ev := &recordv1.AuditEvent{Kind: audit.KindClockUntrusted, Principal: "wormvault", Details: map[string]string{
		"reason":       st.Reason,
		"wall":         st.Wall.UTC().Format(time.RFC3339Nano),
		"trusted_time": st.TrustedTime.UTC().Format(time.RFC3339Nano),
		"skew":         st.Skew.String(),
	}}
	if err := s.RecordAudit(ctx, ev); err != nil {
		return fmt.Errorf("vault: audit the untrusted clock: %w", err)
	}
	s.clockWatch.audited = st.Since
	return nil
}
