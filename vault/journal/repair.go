package journal

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Repair brings every drive that is not in line (lagging, disagreeing,
// corrupt, offline, replaced, or another journal's) back in line: it
// rewrites the drive's journal from the merged sequence, majority copy of
// every seq, and puts the drive back online. It returns the report of the
// read it repaired from, and an error naming the drives it could not
// repair. A drive holding another journal is overwritten. Appends wait
// while it runs; it rewrites whole drives, so it is for startup or an
// operator, not for every lagging seq.
//
// A drive is rewritten into <dir>.repair, then swapped in by two renames;
// an interrupted swap is finished by the next Open.
func (j *Journal) Repair(ctx context.Context) (Report, error) {
	if j.cfg.ReadOnly {
		return Report{}, ErrReadOnly
	}
	j.readMu.Lock()
	defer j.readMu.Unlock()
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return Report{}, ErrClosed
	}
	// Let every drive finish what it was given.
	bars, err := j.barriers(ctx, true)
	if err == nil {
		err = waitAll(ctx, bars)
	}
	if err != nil {
		return Report{}, err
	}
	limit := j.next - 1
	rep, _, err := j.survey(ctx, 0, limit)
	if err != nil {
		return rep, err
	}
	var targets []*rewriter
	for i, dr := range rep.Drives {
		if dr.InLine() {
			continue
		}
		d := j.drives[i]
		if rep.Last == 0 {
			// Nothing to copy: an empty drive only needs to come back online.
			d.mu.Lock()
			if d.err != nil && len(d.segs) == 0 {
				d.err = nil
			}
			d.mu.Unlock()
			continue
		}
		targets = append(targets, &rewriter{j: j, d: d, tmp: d.dir + ".repair"})
	}
	if len(targets) == 0 {
		return rep, nil
	}
	for _, w := range targets {
		w.err = w.start()
	}
	var scratch Report
	err = j.merge(ctx, 0, limit, &scratch, func(c copyOf) error {
		for _, w := range targets {
			if w.err == nil {
				w.err = w.add(c)
			}
		}
		return nil
	})
	if err != nil {
		for _, w := range targets {
			w.abort()
		}
		return rep, err
	}
	var errs []error
	for _, w := range targets {
		if w.err == nil {
			w.err = w.finish()
		}
		if w.err != nil {
			w.abort()
			errs = append(errs, fmt.Errorf("journal: repair %s: %w", w.d.dir, w.err))
		}
	}
	return rep, errors.Join(errs...)
}

// rewriter writes one drive's new journal into a temporary directory.
type rewriter struct {
	j    *Journal
	d    *drive
	tmp  string
	f    *os.File
	w    *bufio.Writer
	size int64
	err  error
}

func (w *rewriter) start() error {
	if err := os.RemoveAll(w.tmp); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(w.tmp), 0o750); err != nil {
		return err
	}
	return os.Mkdir(w.tmp, 0o750)
}

func (w *rewriter) add(c copyOf) error {
	if w.f == nil || w.size >= w.j.cfg.SegmentSize {
		if err := w.closeSegment(); err != nil {
			return err
		}
		f, err := os.OpenFile(filepath.Join(w.tmp, segmentName(c.in.seq)), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
		if err != nil {
			return err
		}
		w.f, w.w = f, bufio.NewWriterSize(f, 1<<20)
		hdr := header{id: w.j.id, first: c.in.seq}.appendTo(nil)
		w.w.Write(hdr)
		w.size = int64(len(hdr))
	}
	frame := appendFrame(nil, c.payload)
	w.size += int64(len(frame))
	_, err := w.w.Write(frame)
	return err
}

func (w *rewriter) closeSegment() error {
	if w.f == nil {
		return nil
	}
	err := w.w.Flush()
	if err == nil {
		err = w.f.Sync()
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	w.f = nil
	return err
}

// finish swaps the new journal in and reopens the drive on it.
func (w *rewriter) finish() error {
	if err := w.closeSegment(); err != nil {
		return err
	}
	if err := syncPath(w.tmp); err != nil {
		return err
	}
	d := w.d
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.f != nil {
		d.f.Close()
		d.f = nil
	}
	if err := swapIn(d.dir, w.tmp); err != nil {
		return err
	}
	s, err := scanDrive(d.ops, false)
	if err == nil {
		err = s.corrupt
	}
	if err == nil && len(s.segs) > 0 {
		d.f, err = d.ops.openAppend(s.segs[len(s.segs)-1].name)
	}
	if err != nil {
		d.err = fmt.Errorf("journal: drive %s offline after repair: %w", d.dir, err)
		return err
	}
	d.err, d.segs, d.lastSize, d.lastSeq, d.torn = nil, s.segs, s.lastSize, s.lastSeq, 0
	return nil
}

func (w *rewriter) abort() {
	if w.f != nil {
		w.f.Close()
		w.f = nil
	}
	os.RemoveAll(w.tmp)
}

// swapIn replaces dir by tmp: dir -> dir.old, tmp -> dir, remove dir.old,
// with the parent fsynced after each rename.
func swapIn(dir, tmp string) error {
	old, parent := dir+".old", filepath.Dir(dir)
	if err := os.RemoveAll(old); err != nil {
		return err
	}
	// dir must exist to be moved aside: recoverSwap reads a missing dir as
	// "tmp is complete".
	if err := os.Mkdir(dir, 0o750); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	if err := os.Rename(dir, old); err != nil {
		return err
	}
	if err := syncPath(parent); err != nil {
		return err
	}
	if err := os.Rename(tmp, dir); err != nil {
		return err
	}
	if err := syncPath(parent); err != nil {
		return err
	}
	return os.RemoveAll(old)
}

// recoverSwap finishes or undoes a swapIn a crash interrupted: a missing
// dir with a complete <dir>.repair (it is complete once dir has been moved
// aside) takes the repair; with only <dir>.old, the old journal comes back.
// Leftovers are removed.
func recoverSwap(dir string) error {
	tmp, old := dir+".repair", dir+".old"
	exists := func(p string) bool { _, err := os.Stat(p); return err == nil }
	if !exists(tmp) && !exists(old) {
		return nil
	}
	if !exists(dir) {
		from := old
		if exists(tmp) {
			from = tmp
		}
		if err := os.Rename(from, dir); err != nil {
			return err
		}
	}
	if err := os.RemoveAll(tmp); err != nil {
		return err
	}
	if err := os.RemoveAll(old); err != nil {
		return err
	}
	return syncPath(filepath.Dir(dir))
}
