package soak

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"google.golang.org/grpc/codes"
)

// Report is the result of a soak.
type Report struct {
	Config  Config
	Elapsed time.Duration // how long the workers ran

	Kinds  []KindReport
	Errors []ErrorCount

	Acked      int
	AckedBytes int64
	// Verified, Lost and Corrupt count the acknowledged uploads read back
	// at the end: bit-exact, gone, and different.
	Verified, Lost, Corrupt int
	VerifyTook              time.Duration
	// Unexpected counts operations whose outcome the faults in force do
	// not explain; Samples are the first of them.
	Unexpected int
	Samples    []string

	Faults  []string // what was injected, when
	Skipped []string // faults this machine could not inject, and why
	Heals   []string
	// PeakRSS is the server's peak resident set (VmHWM), the highest of
	// every server process; Starts counts them.
	PeakRSS int64
	Starts  int

	// Failures are the reasons the soak fails; none means it passed.
	Failures []string
}

// KindReport sums up one kind of operation.
type KindReport struct {
	Kind                 string
	OK                   int
	PerSecond            float64
	P50, P99             time.Duration
	MBPerSecond          float64
	Expected, Unexpected int
}

// ErrorCount is how often one kind of operation failed with one code.
type ErrorCount struct {
	Kind, Code, Reason string
	Expected           bool
	Count              int
}

// Passed reports whether the soak found nothing wrong.
func (r *Report) Passed() bool { return len(r.Failures) == 0 }

func (r *Report) fail(format string, args ...any) {
	r.Failures = append(r.Failures, fmt.Sprintf(format, args...))
}

// collect fills the report from the run's parts.
func (r *Report) collect(rec *recorder, in *injector, srv *serverProc) {
	rec.mu.Lock()
	secs := r.Elapsed.Seconds()
	for k := range numKinds {
		s := &rec.kinds[k]
		slices.Sort(s.latencies)
		kr := KindReport{Kind: k.String(), OK: s.ok, PerSecond: float64(s.ok) / secs,
			P50: percentile(s.latencies, 0.50), P99: percentile(s.latencies, 0.99), MBPerSecond: float64(s.bytes) / 1e6 / secs}
		for e, n := range s.errs {
			if e.expected {
				kr.Expected += n
			} else {
				kr.Unexpected += n
			}
			r.Errors = append(r.Errors, ErrorCount{Kind: k.String(), Code: e.code.String(), Reason: e.reason, Expected: e.expected, Count: n})
		}
		r.Kinds = append(r.Kinds, kr)
	}
	r.Acked, r.AckedBytes = len(rec.acked), rec.ackBytes
	r.Unexpected, r.Samples = rec.nUnexp, slices.Clone(rec.samples)
	rec.mu.Unlock()
	slices.SortFunc(r.Errors, func(a, b ErrorCount) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Code, b.Code), cmp.Compare(a.Reason, b.Reason))
	})

	in.mu.Lock()
	for _, e := range in.events {
		r.Faults = append(r.Faults, fmt.Sprintf("%7.2fs %s", e.at.Seconds(), e.what))
	}
	r.Skipped = slices.Clone(in.skipped)
	for _, h := range in.heals {
		line := fmt.Sprintf("%7.2fs %s: %d archives checked, %d healed (%d shards rewritten), %d unrecoverable, in %s",
			h.at.Seconds(), h.why, h.checked, h.healed, h.rewritten, h.unrecover, h.took.Round(10*time.Millisecond))
		switch {
		case h.interrupted:
			line += fmt.Sprintf(" (interrupted by a later fault: %v)", h.err)
		case h.err != nil:
			line += fmt.Sprintf(" (failed: %v)", h.err)
		}
		r.Heals = append(r.Heals, line)
	}
	for _, err := range in.errs {
		r.fail("%v", err)
	}
	in.mu.Unlock()

	r.PeakRSS = srv.peakRSS()
	srv.mu.Lock()
	r.Starts = srv.starts
	srv.mu.Unlock()

	if r.Unexpected > 0 {
		r.fail("%d unexpected errors", r.Unexpected)
	}
	if r.Verified != r.Acked {
		r.fail("%d of %d acknowledged uploads verified", r.Verified, r.Acked)
	}
	if r.Acked == 0 {
		r.fail("no upload was acknowledged")
	}
	skipped := func(name string) bool {
		return slices.ContainsFunc(r.Skipped, func(s string) bool { return strings.HasPrefix(s, name+":") })
	}
	if f := r.Config.Faults; f.Unwritable.Enabled() && f.Remove.Enabled() && !skipped(unwritableName) && !skipped(removedName) &&
		f.Unwritable.At < f.Remove.End() && f.Remove.At < f.Unwritable.End() && r.expectedQuorumLoss() == 0 {
		r.fail("two drives were out at once, yet no upload was refused for want of a write quorum")
	}
}

// expectedQuorumLoss reports whether any upload failed for want of a write
// quorum: the soak's proof that the quorum was in fact lost.
func (r *Report) expectedQuorumLoss() int {
	n := 0
	for _, e := range r.Errors {
		if e.Kind == opUpload.String() && e.Code == codes.Unavailable.String() && e.Reason == "NO_WRITE_QUORUM" {
			n += e.Count
		}
	}
	return n
}

// Print writes the report as tables.
func (r *Report) Print(w io.Writer) {
	c := r.Config
	fmt.Fprintf(w, "wormvault soak: %d clients for %s (ran %s), uploads %s..%s, %d drives (%d+%d), SERVICE encryption\n\n",
		c.Clients, c.Duration, r.Elapsed.Round(100*time.Millisecond), size(c.MinUploadSize), size(c.MaxUploadSize), drives, dataShards, parityShards)

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "operation\tok\tops/s\tp50\tp99\tMB/s\texpected errors\tunexpected\t")
	for _, k := range r.Kinds {
		mbs := "-"
		if k.MBPerSecond > 0 {
			mbs = fmt.Sprintf("%.1f", k.MBPerSecond)
		}
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%s\t%s\t%s\t%d\t%d\t\n", k.Kind, k.OK, k.PerSecond, ms(k.P50), ms(k.P99), mbs, k.Expected, k.Unexpected)
	}
	tw.Flush()

	fmt.Fprintln(w, "\nerrors by code:")
	if len(r.Errors) == 0 {
		fmt.Fprintln(w, "  none")
	}
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, e := range r.Errors {
		exp := "UNEXPECTED"
		if e.Expected {
			exp = "expected"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%d\n", e.Kind, e.Code, cmp.Or(e.Reason, "-"), exp, e.Count)
	}
	tw.Flush()

	fmt.Fprintln(w, "\nfaults:")
	for _, f := range r.Faults {
		fmt.Fprintln(w, " ", f)
	}
	for _, s := range r.Skipped {
		fmt.Fprintln(w, "  skipped:", s)
	}
	if len(r.Faults)+len(r.Skipped) == 0 {
		fmt.Fprintln(w, "  none")
	}
	fmt.Fprintln(w, "\nheals:")
	for _, h := range r.Heals {
		fmt.Fprintln(w, " ", h)
	}

	fmt.Fprintf(w, "\nacknowledged uploads: %d (%s); read back bit-exact: %d, lost: %d, corrupt: %d (verified in %s)\n",
		r.Acked, size(r.AckedBytes), r.Verified, r.Lost, r.Corrupt, r.VerifyTook.Round(100*time.Millisecond))
	fmt.Fprintf(w, "uploads refused for want of a write quorum: %d\n", r.expectedQuorumLoss())
	fmt.Fprintf(w, "server peak RSS (VmHWM, highest of %d processes): %.0f MiB\n", r.Starts, float64(r.PeakRSS)/(1<<20))
	fmt.Fprintf(w, "unexpected errors: %d\n", r.Unexpected)
	for _, s := range r.Samples {
		fmt.Fprintln(w, " ", s)
	}
	if r.Passed() {
		fmt.Fprintln(w, "\nPASS")
		return
	}
	fmt.Fprintln(w, "\nFAIL:")
	for i, f := range r.Failures {
		if i == 20 {
			fmt.Fprintf(w, "  ... and %d more\n", len(r.Failures)-i)
			break
		}
		fmt.Fprintln(w, " ", f)
	}
}

func ms(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
}

func size(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && (n%(1<<20) == 0 || n >= 100<<20):
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return strings.TrimSpace(fmt.Sprintf("%d B", n))
}
