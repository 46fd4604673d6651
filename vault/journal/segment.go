package journal

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"slices"
)

// segInfo names one segment file of a drive.
type segInfo struct {
	name  string
	first uint64
}

// segReader reads the frames of one segment, checking the header and that
// seqs start at the header's and strictly increase.
type segReader struct {
	seg  segInfo
	c    io.Closer
	r    *bufio.Reader
	hdr  header
	off  int64 // offset of the next frame
	size int64 // bytes to read: the file size, or less for a live or torn segment
	prev uint64
}

// openSegment opens a segment and reads its header. limit < 0 reads to the
// end of the file. It returns an I/O error, or a header error wrapping
// ErrCorrupt or ErrUnsupported (with the reader, so the caller knows the
// size).
func openSegment(d dirOps, seg segInfo, limit int64) (*segReader, error) {
	rc, size, err := d.open(seg.name)
	if err != nil {
		return nil, err
	}
	if limit >= 0 && limit < size {
		size = limit
	}
	s := &segReader{seg: seg, c: rc, r: bufio.NewReaderSize(io.LimitReader(rc, size), 256<<10), size: size, off: headerSize}
	var hb [headerSize]byte
	if _, err := io.ReadFull(s.r, hb[:]); err != nil {
		return s, fmt.Errorf("%w: %s: %w: short", ErrCorrupt, seg.name, errBadHeader)
	}
	if s.hdr, err = decodeHeader(hb[:]); err != nil {
		return s, fmt.Errorf("%s: %w", seg.name, err)
	}
	if s.hdr.first != seg.first {
		return s, fmt.Errorf("%w: %s: header says first seq %d", ErrCorrupt, seg.name, s.hdr.first)
	}
	return s, nil
}

func (s *segReader) close() { s.c.Close() }

// next returns the next frame's payload and what peek read of it. At the
// clean end it returns io.EOF. A frame error (errShortFrame, errFrameSize,
// errChecksum) or a bad entry leaves s.off at the start of the bad frame.
func (s *segReader) next() ([]byte, info, error) {
	if s.off == s.size {
		return nil, info{}, io.EOF
	}
	p, err := readFrame(s.r)
	if err == io.EOF {
		err = errShortFrame
	}
	if err != nil {
		return nil, info{}, err
	}
	in, err := peek(p)
	switch {
	case err != nil:
		return nil, in, fmt.Errorf("%w: %s offset %d: %v", ErrCorrupt, s.seg.name, s.off, err)
	case s.prev == 0 && in.seq != s.hdr.first:
		return nil, in, fmt.Errorf("%w: %s offset %d: first entry is seq %d", ErrCorrupt, s.seg.name, s.off, in.seq)
	case s.prev != 0 && in.seq <= s.prev:
		return nil, in, fmt.Errorf("%w: %s offset %d: seq %d after %d", ErrCorrupt, s.seg.name, s.off, in.seq, s.prev)
	}
	s.prev = in.seq
	s.off += int64(frameHeaderSize + len(p))
	return p, in, nil
}

func isFrameErr(err error) bool {
	return errors.Is(err, errShortFrame) || errors.Is(err, errFrameSize) || errors.Is(err, errChecksum)
}

// driveScan is what opening finds on one drive.
type driveScan struct {
	segs     []segInfo
	lastSize int64 // valid bytes of the last segment; -1 when corrupt (read to the end)
	id       [16]byte
	hasID    bool   // id was read from the last segment's header
	lastSeq  uint64 // highest seq present, 0 if none
	reserved uint64 // highest seq the last entry's batch reserved
	torn     int64  // bytes of a torn tail cut away (or, read-only, ignored)
	corrupt  error  // damage that is not a torn tail: not appendable
}

// listSegments returns a drive's segments in seq order.
func listSegments(d dirOps) ([]segInfo, error) {
	names, err := d.list()
	if err != nil {
		return nil, err
	}
	var segs []segInfo
	for _, n := range names {
		if first, ok := parseSegmentName(n); ok {
			segs = append(segs, segInfo{name: n, first: first})
		}
	}
	slices.SortFunc(segs, func(a, b segInfo) int {
		if a.first < b.first {
			return -1
		}
		if a.first > b.first {
			return 1
		}
		return 0
	})
	return segs, nil
}

// scanDrive lists a drive's segments and reads its last one to the end,
// cutting away a torn tail (unless readOnly). Only the newest write can be
// torn: bad bytes in the last tornWindow bytes of the last segment are a
// torn tail; bad bytes anywhere else are corruption. It returns an error
// only when the drive cannot be read at all.
func scanDrive(d dirOps, readOnly bool) (driveScan, error) {
	var s driveScan
	segs, err := listSegments(d)
	if err != nil {
		return s, err
	}
	for tornOK := true; len(segs) > 0; tornOK = false {
		last := segs[len(segs)-1]
		r, err := openSegment(d, last, -1)
		if r == nil {
			return s, err
		}
		if err != nil {
			r.close()
			if s.id, s.hasID = r.hdr.id, r.hdr.first != 0; s.hasID {
				// Readable, but not this segment's header: corrupt.
				s.segs, s.lastSize, s.corrupt = segs, -1, err
				return s, nil
			}
			if !tornOK || r.size > tornWindow || !errors.Is(err, errBadHeader) {
				s.segs, s.lastSize, s.corrupt = segs, -1, err
				return s, nil
			}
			// A torn segment creation: the header is part of the write.
			if err := dropSegment(d, last, readOnly); err != nil {
				return s, err
			}
			s.torn += r.size
			segs = segs[:len(segs)-1]
			continue
		}
		s.id, s.hasID = r.hdr.id, true
		var lastInfo info
		for {
			_, in, err := r.next()
			if err == io.EOF {
				break
			}
			if err != nil {
				if !isFrameErr(err) {
					if !errors.Is(err, ErrCorrupt) {
						r.close()
						return s, err
					}
					s.corrupt = err
				} else if !tornOK || r.size-r.off > tornWindow {
					s.corrupt = fmt.Errorf("%w: %s offset %d: %v", ErrCorrupt, last.name, r.off, err)
				}
				break
			}
			lastInfo = in
		}
		r.close()
		if s.corrupt != nil {
			// Read to the end later, so the damage is reported again.
			s.segs, s.lastSize = segs, -1
			s.lastSeq, s.reserved = lastInfo.seq, lastInfo.last()
			return s, nil
		}
		if r.off == headerSize {
			if !tornOK {
				s.segs, s.lastSize = segs, -1
				s.corrupt = fmt.Errorf("%w: %s holds no entries", ErrCorrupt, last.name)
				return s, nil
			}
			// Nothing of the segment survived: it was created by the torn
			// write, so it goes, and its name (its first seq) with it.
			if err := dropSegment(d, last, readOnly); err != nil {
				return s, err
			}
			s.torn += r.size
			segs = segs[:len(segs)-1]
			continue
		}
		if r.off < r.size {
			// Torn tail.
			s.torn += r.size - r.off
			if !readOnly {
				if err := d.truncate(last.name, r.off); err != nil {
					return s, err
				}
			}
		}
		s.segs, s.lastSize = segs, r.off
		s.lastSeq, s.reserved = lastInfo.seq, lastInfo.last()
		return s, nil
	}
	return s, nil
}

func dropSegment(d dirOps, seg segInfo, readOnly bool) error {
	if readOnly {
		return nil
	}
	return d.remove(seg.name)
}
