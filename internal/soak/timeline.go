package soak

import (
	"sync"
	"time"
)

// timeline records when faults were in force, so each operation can be
// judged against the faults that overlapped it. A fault takes effect at
// some instant between the call that starts it and that call's return, and
// ends likewise; a span keeps both instants of each edge so that judging
// can be generous about what an operation may suffer (the outer span) and
// strict about what it must (the inner span).
type timeline struct {
	mu     sync.Mutex
	drives []span // one per drive fault
	server []span // server down: SIGKILL until reachable again
}

// span is [outerFrom, outerTo) with [innerFrom, innerTo) surely inside it.
// A zero end means the span is still open.
type span struct {
	outerFrom, innerFrom time.Time
	innerTo, outerTo     time.Time
}

// faultState is what an operation saw between its start and its end.
type faultState struct {
	// maxDrivesDown is the most drives that may have been faulted at once
	// during the operation; minDrivesDown the fewest that surely were
	// throughout it.
	maxDrivesDown, minDrivesDown int
	// serverDown: the server may have been down (or clients still
	// reconnecting) at some point during the operation.
	serverDown bool
}

// mark is one fault being recorded: its calls record the span's edges in
// order, each right before or after the action that makes it.
type mark struct {
	tl   *timeline
	list *[]span
	i    int
}

// start records a fault about to be applied.
func (tl *timeline) start(list *[]span) mark {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	*list = append(*list, span{outerFrom: time.Now()})
	return mark{tl: tl, list: list, i: len(*list) - 1}
}

func (m mark) set(f func(s *span)) {
	m.tl.mu.Lock()
	defer m.tl.mu.Unlock()
	f(&(*m.list)[m.i])
}

// applied records that the fault is surely in force.
func (m mark) applied() { m.set(func(s *span) { s.innerFrom = time.Now() }) }

// repairing records that the repair is about to start.
func (m mark) repairing() { m.set(func(s *span) { s.innerTo = time.Now() }) }

// repaired records that the repair is done; its effects may linger for
// extra (clients reconnecting).
func (m mark) repaired(extra time.Duration) {
	m.set(func(s *span) { s.outerTo = time.Now().Add(extra) })
}

// driveFault starts recording a drive fault.
func (tl *timeline) driveFault() mark { return tl.start(&tl.drives) }

// serverFault starts recording a server outage.
func (tl *timeline) serverFault() mark { return tl.start(&tl.server) }

// during returns the fault state over [from, to].
func (tl *timeline) during(from, to time.Time) faultState {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	return stateDuring(tl.drives, tl.server, from, to)
}

// stateDuring is during without the lock, for tests.
func stateDuring(driveSpans, serverSpans []span, from, to time.Time) faultState {
	var st faultState
	for _, s := range serverSpans {
		if overlaps(s.outerFrom, s.outerTo, from, to) {
			st.serverDown = true
		}
	}
	// The counts change only at span edges: the maximum over [from, to] is
	// reached at from or at an outer start inside it, the minimum at from
	// or just after an inner end inside it.
	maxAt := []time.Time{from}
	minAt := []time.Time{from, to}
	for _, s := range driveSpans {
		if s.outerFrom.After(from) && !s.outerFrom.After(to) {
			maxAt = append(maxAt, s.outerFrom)
		}
		if !s.innerTo.IsZero() && s.innerTo.After(from) && s.innerTo.Before(to) {
			minAt = append(minAt, s.innerTo)
		}
	}
	for _, t := range maxAt {
		n := 0
		for _, s := range driveSpans {
			if within(t, s.outerFrom, s.outerTo) {
				n++
			}
		}
		st.maxDrivesDown = max(st.maxDrivesDown, n)
	}
	st.minDrivesDown = len(driveSpans)
	for _, t := range minAt {
		n := 0
		for _, s := range driveSpans {
			if !s.innerFrom.IsZero() && within(t, s.innerFrom, s.innerTo) {
				n++
			}
		}
		st.minDrivesDown = min(st.minDrivesDown, n)
	}
	return st
}

// within reports from <= t < to, a zero to being open.
func within(t, from, to time.Time) bool {
	return !t.Before(from) && (to.IsZero() || t.Before(to))
}

// overlaps reports whether [from, to) (zero to: open) meets [a, b].
func overlaps(from, to, a, b time.Time) bool {
	return !from.After(b) && (to.IsZero() || to.After(a))
}
