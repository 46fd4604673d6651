package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progressDelay is how long a transfer runs before its bar appears: short
// transfers print nothing.
const progressDelay = time.Second

// progress draws a progress bar on stderr for a transfer, but only when
// stderr is a terminal and only once the transfer has lasted progressDelay.
// The zero-value-like disabled progress does nothing.
type progress struct {
	w       io.Writer
	enabled bool
	total   int64 // -1 when unknown
	desc    string
	start   time.Time
	now     func() time.Time
	bar     *progressbar.ProgressBar
}

func (a *app) newProgress(total int64, desc string) *progress {
	return &progress{w: a.stderr, enabled: isTerminal(a.stderr), total: total, desc: desc, start: time.Now(), now: time.Now}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// set reports that n bytes have been transferred.
func (p *progress) set(n int64) {
	if !p.enabled {
		return
	}
	if p.bar == nil {
		if p.now().Sub(p.start) < progressDelay {
			return
		}
		p.bar = progressbar.NewOptions64(p.total,
			progressbar.OptionSetWriter(p.w),
			progressbar.OptionSetDescription(p.desc),
			progressbar.OptionShowBytes(true),
			progressbar.OptionUseIECUnits(true),
			progressbar.OptionSetWidth(30),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
	}
	p.bar.Set64(n)
}

// done removes the bar, if one was drawn.
func (p *progress) done() {
	if p.bar != nil {
		p.bar.Finish()
		fmt.Fprint(p.w, "\r")
	}
}

// progressReader reports the bytes read through it.
type progressReader struct {
	r io.Reader
	n int64
	p *progress
}

func (r *progressReader) Read(b []byte) (int, error) {
	n, err := r.r.Read(b)
	r.n += int64(n)
	r.p.set(r.n)
	return n, err
}
