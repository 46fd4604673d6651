package audit

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/wormvault/wormvault"
	recordv1 "github.com/wormvault/wormvault/proto/wormvault/record/v1"
	"github.com/wormvault/wormvault/vault/catalog"
)

func TestAppendSetsChain(t *testing.T) {
	f := newFixture(t)
	var evs []*recordv1.AuditEvent
	for i := range 3 {
		ev := sample(i)
		if err := f.trail.Record(t.Context(), ev); err != nil {
			t.Fatal(err)
		}
		evs = append(evs, ev)
	}
	for i, ev := range evs {
		if ev.GetSequence() != uint64(i+1) || len(ev.GetSha256()) != 32 || ev.GetTime() == nil {
			t.Fatalf("event %d = %v", i, ev)
		}
		if i == 0 && ev.GetPrevSha256() != nil || i > 0 && string(ev.GetPrevSha256()) != string(evs[i-1].GetSha256()) {
			t.Fatalf("event %d: prev_sha256 %x does not link", i+1, ev.GetPrevSha256())
		}
		got, err := DecodeEvent(f.raw(t, ev.GetSequence()))
		if err != nil || got.GetRequestId() != ev.GetRequestId() || string(got.GetSha256()) != string(ev.GetSha256()) {
			t.Fatalf("stored event %d = %v, %v", i+1, got, err)
		}
	}
	wantOK(t, f.verify(t), 3)
}

func TestAppendRejectsUnknownKind(t *testing.T) {
	f := newFixture(t)
	for _, k := range []string{"", "vault_create", "NOPE"} {
		err := f.trail.Record(t.Context(), &recordv1.AuditEvent{Kind: k})
		if !errors.Is(err, wormvault.ErrInvalidArgument) {
			t.Errorf("kind %q: %v, want invalid argument", k, err)
		}
	}
	wantOK(t, f.verify(t), 0)
}

// TestEveryKind produces each event kind and finds it by kind.
func TestEveryKind(t *testing.T) {
	f := newFixture(t)
	for i, k := range Kinds() {
		ev := &recordv1.AuditEvent{Kind: k, Principal: "root", Vault: "v", Details: map[string]string{"n": fmt.Sprint(i)}}
		if k == KindRetentionSet {
			until := epoch.AddDate(7, 0, 0)
			ev.Details = RetentionDetails(
				&recordv1.Retention{Mode: recordv1.RetentionMode_RETENTION_MODE_GOVERNANCE, RetainUntilTime: ts(epoch)},
				&recordv1.Retention{Mode: recordv1.RetentionMode_RETENTION_MODE_COMPLIANCE, RetainUntilTime: ts(until)})
		}
		if err := f.trail.Record(t.Context(), ev); err != nil {
			t.Fatalf("%s: %v", k, err)
		}
	}
	for _, k := range Kinds() {
		got, next, err := f.trail.List(t.Context(), Filter{Kind: k})
		if err != nil || len(got) != 1 || next != 0 || got[0].GetKind() != k {
			t.Fatalf("List(kind %s) = %v, %d, %v", k, got, next, err)
		}
		if k == KindRetentionSet {
			d := got[0].GetDetails()
			if d["old_mode"] != "RETENTION_MODE_GOVERNANCE" || d["new_mode"] != "RETENTION_MODE_COMPLIANCE" ||
				d["old_retain_until"] != "2030-01-02T03:04:05Z" || d["new_retain_until"] != "2037-01-02T03:04:05Z" {
				t.Errorf("retention details = %v", d)
			}
		}
	}
	if len(Kinds()) != 42 {
		t.Errorf("%d kinds; a kind was added or lost", len(Kinds()))
	}
	wantOK(t, f.verify(t), int64(len(Kinds())))
}

// TestAppendCommitsWithTheChange: an event in a transaction that fails is
// not stored, and the chain stays contiguous.
func TestAppendCommitsWithTheChange(t *testing.T) {
	f := newFixture(t)
	boom := errors.New("boom")
	err := f.cat.Update(t.Context(), func(tx *catalog.Txn) error {
		if err := tx.PutMeta("x", []byte("1")); err != nil {
			return err
		}
		if err := f.trail.Append(tx, sample(0)); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	err = f.cat.Update(t.Context(), func(tx *catalog.Txn) error {
		if err := tx.PutMeta("y", []byte("1")); err != nil {
			return err
		}
		return f.trail.Append(tx, sample(1))
	})
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := f.trail.List(t.Context(), Filter{})
	if err != nil || len(got) != 1 || got[0].GetSequence() != 1 || got[0].GetRequestId() != "req-1" {
		t.Fatalf("List = %v, %v", got, err)
	}
	wantOK(t, f.verify(t), 1)
}

func TestListFilterPaging(t *testing.T) {
	f := newFixture(t)
	const n = 100
	f.appendN(t, n) // event i+1 is sample(i), at epoch + i+1 seconds
	all := func(fl Filter) []uint64 {
		t.Helper()
		var seqs []uint64
		for pages := 0; ; pages++ {
			if pages > 2*n {
				t.Fatal("paging does not end")
			}
			got, next, err := f.trail.List(t.Context(), fl)
			if err != nil {
				t.Fatal(err)
			}
			for _, ev := range got {
				seqs = append(seqs, ev.GetSequence())
			}
			if next == 0 {
				return seqs
			}
			if next <= fl.After {
				t.Fatalf("next %d does not advance past %d", next, fl.After)
			}
			fl.After = next
		}
	}
	want := func(pred func(i int) bool) []uint64 {
		var seqs []uint64
		for i := range n {
			if pred(i) {
				seqs = append(seqs, uint64(i+1))
			}
		}
		return seqs
	}
	at := func(seq int) time.Time { return epoch.Add(time.Duration(seq) * time.Second) }
	cases := []struct {
		name string
		f    Filter
		want []uint64
	}{
		{"all", Filter{}, want(func(int) bool { return true })},
		{"pages of 7", Filter{Limit: 7}, want(func(int) bool { return true })},
		{"vault", Filter{Vault: "v1", Limit: 5}, want(func(i int) bool { return i%3 == 1 })},
		{"kind", Filter{Kind: KindHeal, Limit: 1}, want(func(i int) bool { return kinds[i%testKindsN] == KindHeal })},
		{"vault and kind", Filter{Vault: "v0", Kind: KindVaultCreate},
			want(func(i int) bool { return i%3 == 0 && i%testKindsN == 0 })},
		{"since until", Filter{Since: at(10), Until: at(20), Limit: 3}, want(func(i int) bool { return i+1 >= 10 && i+1 < 20 })},
		{"since", Filter{Since: at(95)}, want(func(i int) bool { return i+1 >= 95 })},
		{"after", Filter{After: 90, Limit: 4}, want(func(i int) bool { return i+1 > 90 })},
		{"none", Filter{Vault: "nope"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := all(c.f); !slices.Equal(got, c.want) {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
	// A small scan budget makes short (even empty) pages with a next
	// token, and paging still finds every match.
	t.Run("scan budget", func(t *testing.T) {
		old := scanBudget
		scanBudget = 4
		defer func() { scanBudget = old }()
		got, next, err := f.trail.List(t.Context(), Filter{Kind: KindFixityReport})
		if err != nil || len(got) != 0 || next != 4 {
			t.Fatalf("first page = %v, next %d, %v; want empty with next 4", got, next, err)
		}
		for _, c := range cases {
			if got := all(c.f); !slices.Equal(got, c.want) {
				t.Errorf("%s: got %v, want %v", c.name, got, c.want)
			}
		}
	})
	for _, bad := range []Filter{{Kind: "nope"}, {Limit: -1}, {Since: at(5), Until: at(5)}} {
		if _, _, err := f.trail.List(t.Context(), bad); !errors.Is(err, wormvault.ErrInvalidArgument) {
			t.Errorf("List(%+v) = %v, want invalid argument", bad, err)
		}
	}
	if got, _, _ := f.trail.List(t.Context(), Filter{Limit: 5000}); len(got) != n {
		t.Errorf("Limit above max: %d events", len(got))
	}
}

// TestConcurrentAppends: 8 goroutines appending inside their own
// transactions (retrying conflicts, as the vault's commit loop does) and 8
// more through Record leave one contiguous chain holding every event.
func TestConcurrentAppends(t *testing.T) {
	f := newFixture(t)
	const workers, each = 8, 15
	var wg sync.WaitGroup
	errs := make(chan error, 2*workers)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				ev := &recordv1.AuditEvent{Kind: KindKMSDecrypt, Principal: fmt.Sprintf("txn-%d", w),
					RequestId: fmt.Sprint(i), Time: ts(epoch)}
				var err error
				for attempt := 0; ; attempt++ {
					err = f.cat.Attempt(func(tx *catalog.Txn) error {
						if err := tx.PutMeta(fmt.Sprintf("w%d", w), []byte{byte(i)}); err != nil {
							return err
						}
						return f.trail.Append(tx, ev)
					})
					if !errors.Is(err, catalog.ErrConflict) || attempt == 500 {
						break
					}
					time.Sleep(time.Duration(1+attempt%5) * time.Millisecond)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
		wg.Go(func() {
			for i := range each {
				ev := &recordv1.AuditEvent{Kind: KindKMSGenerateDataKey, Principal: fmt.Sprintf("rec-%d", w),
					RequestId: fmt.Sprint(i), Time: ts(epoch)}
				if err := f.trail.Record(t.Context(), ev); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	wantOK(t, f.verify(t), 2*workers*each)
	got, next, err := f.trail.List(t.Context(), Filter{Limit: MaxPageSize})
	if err != nil || next != 0 || len(got) != 2*workers*each {
		t.Fatalf("List: %d events, next %d, %v", len(got), next, err)
	}
	// Each writer's events are all there, in its own order.
	last := map[string]int{}
	for i, ev := range got {
		if ev.GetSequence() != uint64(i+1) {
			t.Fatalf("event %d has sequence %d", i+1, ev.GetSequence())
		}
		var n int
		fmt.Sscan(ev.GetRequestId(), &n)
		if prev, ok := last[ev.GetPrincipal()]; ok && n != prev+1 || !ok && n != 0 {
			t.Fatalf("%s: request %d after %d", ev.GetPrincipal(), n, prev)
		}
		last[ev.GetPrincipal()] = n
	}
	if len(last) != 2*workers {
		t.Fatalf("%d writers seen", len(last))
	}
}
