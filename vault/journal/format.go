package journal

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"strconv"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// Format constants; doc.go describes the layout they define.
const (
	segmentMagic    = "WVJOURN\x00"
	formatVersion   = 1
	checksumCRC32C  = 1
	encodingProto   = 1
	headerSize      = 48
	frameHeaderSize = 8
	segmentExt      = ".wvj"
	seqDigits       = 20

	// MaxEntrySize is the largest encoded entry. A version record is at
	// most 1 MiB (it must fit in a shard trailer), so this leaves room.
	MaxEntrySize = 4 << 20
	// MaxAppendSize bounds the framed bytes of one Append call. Writes are
	// coalesced up to this size too, so no single write is larger than
	// headerSize+MaxAppendSize: the span a crash can tear.
	MaxAppendSize = 8 << 20
	tornWindow    = headerSize + MaxAppendSize

	// DefaultSegmentSize is the size at which a drive starts a new segment.
	DefaultSegmentSize = 64 << 20
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Frame errors. A reader tells a torn tail from corruption by where the bad
// frame is, not by which of these it got.
var (
	errShortFrame = errors.New("frame runs past the end")
	errFrameSize  = errors.New("frame length out of range")
	errChecksum   = errors.New("frame checksum mismatch")
	// errBadHeader is a header that is short, or whose magic or checksum
	// is wrong: what a torn segment creation leaves.
	errBadHeader = errors.New("bad segment header")
)

// header is a segment's fixed 48-byte header.
type header struct {
	id    [16]byte
	first uint64
}

func (h header) appendTo(b []byte) []byte {
	start := len(b)
	b = append(b, segmentMagic...)
	b = binary.LittleEndian.AppendUint16(b, formatVersion)
	b = append(b, checksumCRC32C, encodingProto)
	b = binary.LittleEndian.AppendUint32(b, 0)
	b = append(b, h.id[:]...)
	b = binary.LittleEndian.AppendUint64(b, h.first)
	b = binary.LittleEndian.AppendUint32(b, 0)
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b[start:], castagnoli))
}

func decodeHeader(b []byte) (header, error) {
	var h header
	if len(b) < headerSize {
		return h, fmt.Errorf("%w: %w: %d bytes", ErrCorrupt, errBadHeader, len(b))
	}
	b = b[:headerSize]
	if string(b[:8]) != segmentMagic {
		return h, fmt.Errorf("%w: %w: not a journal segment", ErrCorrupt, errBadHeader)
	}
	if crc32.Checksum(b[:44], castagnoli) != binary.LittleEndian.Uint32(b[44:]) {
		return h, fmt.Errorf("%w: %w: checksum mismatch", ErrCorrupt, errBadHeader)
	}
	if v := binary.LittleEndian.Uint16(b[8:]); v != formatVersion {
		return h, fmt.Errorf("%w: segment format version %d", ErrUnsupported, v)
	}
	if b[10] != checksumCRC32C || b[11] != encodingProto {
		return h, fmt.Errorf("%w: checksum kind %d, entry encoding %d", ErrUnsupported, b[10], b[11])
	}
	copy(h.id[:], b[16:32])
	h.first = binary.LittleEndian.Uint64(b[32:])
	if h.first == 0 {
		return h, fmt.Errorf("%w: segment starts at seq 0", ErrCorrupt)
	}
	return h, nil
}

// frameCRC is the CRC-32C of the four length bytes followed by the payload.
func frameCRC(lenBytes, payload []byte) uint32 {
	return crc32.Update(crc32.Checksum(lenBytes, castagnoli), castagnoli, payload)
}

// appendFrame appends [u32 length][u32 crc][payload] to b.
func appendFrame(b, payload []byte) []byte {
	var l [4]byte
	binary.LittleEndian.PutUint32(l[:], uint32(len(payload)))
	b = append(b, l[:]...)
	b = binary.LittleEndian.AppendUint32(b, frameCRC(l[:], payload))
	return append(b, payload...)
}

// decodeFrame decodes the frame at the start of b and returns its payload
// (aliasing b) and its framed length.
func decodeFrame(b []byte) (payload []byte, n int, err error) {
	if len(b) < frameHeaderSize {
		return nil, 0, errShortFrame
	}
	size := binary.LittleEndian.Uint32(b)
	if size == 0 || size > MaxEntrySize {
		return nil, 0, errFrameSize
	}
	if uint64(len(b)-frameHeaderSize) < uint64(size) {
		return nil, 0, errShortFrame
	}
	payload = b[frameHeaderSize : frameHeaderSize+int(size)]
	if frameCRC(b[:4], payload) != binary.LittleEndian.Uint32(b[4:]) {
		return nil, 0, errChecksum
	}
	return payload, frameHeaderSize + int(size), nil
}

// readFrame reads one frame from r into a new buffer. It returns io.EOF
// only at a clean end, between frames.
func readFrame(r *bufio.Reader) ([]byte, error) {
	var h [frameHeaderSize]byte
	n, err := io.ReadFull(r, h[:])
	if err == io.EOF {
		return nil, io.EOF
	}
	if err != nil {
		if n > 0 && errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, errShortFrame
		}
		return nil, err
	}
	size := binary.LittleEndian.Uint32(h[:])
	if size == 0 || size > MaxEntrySize {
		return nil, errFrameSize
	}
	payload := make([]byte, size)
	if _, err := io.ReadFull(r, payload); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || err == io.EOF {
			return nil, errShortFrame
		}
		return nil, err
	}
	if frameCRC(h[:4], payload) != binary.LittleEndian.Uint32(h[4:]) {
		return nil, errChecksum
	}
	return payload, nil
}

// info is what the journal itself reads of an encoded entry, without
// decoding the change.
type info struct {
	seq       uint64
	batchSeq  uint64
	batchSize uint64
	void      SeqRange // set when the entry is a void
	isVoid    bool
}

// last is the highest seq the entry's batch reserves.
func (i info) last() uint64 {
	if i.batchSize > 1 && i.batchSeq+i.batchSize-1 > i.seq {
		return i.batchSeq + i.batchSize - 1
	}
	return i.seq
}

// batched reports whether the entry belongs to a multi-entry batch.
func (i info) batched() bool { return i.batchSize > 1 }

const voidField = 16

// peek reads the journal's own fields of an encoded entry and checks that
// they are consistent.
func peek(b []byte) (info, error) {
	var in info
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return in, protowire.ParseError(n)
		}
		b = b[n:]
		switch {
		case num <= 3 && typ == protowire.VarintType:
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return in, protowire.ParseError(n)
			}
			b = b[n:]
			switch num {
			case 1:
				in.seq = v
			case 2:
				in.batchSeq = v
			case 3:
				in.batchSize = uint64(uint32(v))
			}
		case num == voidField && typ == protowire.BytesType:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return in, protowire.ParseError(n)
			}
			b = b[n:]
			r, err := peekVoid(v)
			if err != nil {
				return in, err
			}
			in.void, in.isVoid = r, true
		default:
			n := protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return in, protowire.ParseError(n)
			}
			b = b[n:]
		}
	}
	switch {
	case in.seq == 0:
		return in, errors.New("entry has no seq")
	case in.batched() && (in.batchSeq > in.seq || in.seq-in.batchSeq >= in.batchSize):
		return in, fmt.Errorf("entry %d lies outside its batch [%d,+%d)", in.seq, in.batchSeq, in.batchSize)
	case in.isVoid && (in.void.First == 0 || in.void.First > in.void.Last || in.void.Last >= in.seq):
		return in, fmt.Errorf("void %d names seqs %v, not earlier ones", in.seq, in.void)
	}
	return in, nil
}

func peekVoid(b []byte) (SeqRange, error) {
	var r SeqRange
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return r, protowire.ParseError(n)
		}
		b = b[n:]
		if (num == 1 || num == 2) && typ == protowire.VarintType {
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return r, protowire.ParseError(n)
			}
			b = b[n:]
			if num == 1 {
				r.First = v
			} else {
				r.Last = v
			}
			continue
		}
		n = protowire.ConsumeFieldValue(num, typ, b)
		if n < 0 {
			return r, protowire.ParseError(n)
		}
		b = b[n:]
	}
	return r, nil
}

// encodeBody encodes e without the journal's own fields 1-3; encodeEntry
// prefixes them. Because deterministic encoding writes fields in number
// order, the result equals the deterministic encoding of the whole entry.
func encodeBody(e *Entry) ([]byte, error) {
	e.Seq, e.BatchSeq, e.BatchSize = 0, 0, 0
	return proto.MarshalOptions{Deterministic: true}.Marshal(e)
}

// maxPrefix bounds what encodeEntry adds: three tags and varints.
const maxPrefix = 1 + binary.MaxVarintLen64 + 1 + binary.MaxVarintLen64 + 1 + binary.MaxVarintLen32

func encodeEntry(seq, batchSeq uint64, batchSize uint32, body []byte) []byte {
	b := make([]byte, 0, maxPrefix+len(body))
	b = protowire.AppendTag(b, 1, protowire.VarintType)
	b = protowire.AppendVarint(b, seq)
	if batchSize > 1 {
		b = protowire.AppendTag(b, 2, protowire.VarintType)
		b = protowire.AppendVarint(b, batchSeq)
		b = protowire.AppendTag(b, 3, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(batchSize))
	}
	return append(b, body...)
}

// DecodeEntry decodes one entry payload (the bytes inside a frame).
func DecodeEntry(b []byte) (*Entry, error) {
	if _, err := peek(b); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	e := new(Entry)
	if err := proto.Unmarshal(b, e); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	return e, nil
}

func segmentName(first uint64) string {
	return fmt.Sprintf("%0*d%s", seqDigits, first, segmentExt)
}

// parseSegmentName returns the first seq a segment file name announces.
func parseSegmentName(name string) (uint64, bool) {
	digits, ok := strings.CutSuffix(name, segmentExt)
	if !ok || len(digits) != seqDigits {
		return 0, false
	}
	v, err := strconv.ParseUint(digits, 10, 64)
	return v, err == nil && v > 0
}
