package server

import (
	"fmt"
	"io"

	"github.com/wormvault/wormvault"
	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
)

// MaxUploadSize is the most bytes the chunks of one upload may add up to:
// erasure.MaxObjectSize, the largest object the drives store. Refusing at
// the edge says so precisely instead of failing deep in a shard write.
const MaxUploadSize int64 = 1 << 56

// uploadFraming holds the framing rules of an UploadArchive stream and
// applies them one message at a time: the first message is the header,
// every later one is a chunk of at most maxChunk bytes, the chunks add up
// to at most maxTotal bytes, and the stream ends after the header. It knows
// nothing of gRPC streams, so the rules are tested (and fuzzed) alone.
type uploadFraming struct {
	maxChunk int
	maxTotal int64
	header   bool  // the header has been taken
	total    int64 // chunk bytes taken so far
	err      error // the first violation; every later call returns it
}

func newUploadFraming(maxChunk int, maxTotal int64) *uploadFraming {
	return &uploadFraming{maxChunk: maxChunk, maxTotal: maxTotal}
}

// next takes the next message of the stream. The first yields the header
// (never nil), later ones their chunk bytes (possibly empty). A message
// that breaks the rules yields an InvalidArgument naming the field at
// fault, and the upload must end there.
func (f *uploadFraming) next(msg *wormvaultv1.UploadArchiveRequest) (*wormvaultv1.ArchiveHeader, []byte, error) {
	if f.err != nil {
		return nil, nil, f.err
	}
	switch d := msg.GetData().(type) {
	case *wormvaultv1.UploadArchiveRequest_Header:
		if f.header {
			return nil, nil, f.fail(wormvault.InvalidArgument("header", "only the first message may be a header"))
		}
		f.header = true
		if d.Header == nil {
			// An empty header on the wire decodes as a present, empty
			// message; the Go API can also leave it nil. Both mean "no
			// fields set", which the vault then validates field by field.
			return &wormvaultv1.ArchiveHeader{}, nil, nil
		}
		return d.Header, nil, nil
	case *wormvaultv1.UploadArchiveRequest_Chunk:
		if !f.header {
			return nil, nil, f.fail(wormvault.InvalidArgument("header", "the first message must be the header, not a chunk"))
		}
		if len(d.Chunk) > f.maxChunk {
			return nil, nil, f.fail(wormvault.InvalidArgument("chunk", "chunks may be at most %d bytes, got %d", f.maxChunk, len(d.Chunk)))
		}
		if int64(len(d.Chunk)) > f.maxTotal-f.total {
			return nil, nil, f.fail(wormvault.InvalidArgument("chunk", "an archive may be at most %d bytes; this chunk takes the upload past it", f.maxTotal))
		}
		f.total += int64(len(d.Chunk))
		return nil, d.Chunk, nil
	default:
		if !f.header {
			return nil, nil, f.fail(wormvault.InvalidArgument("header", "the first message must be the header; this one carries nothing"))
		}
		return nil, nil, f.fail(wormvault.InvalidArgument("data", "message carries neither header nor chunk"))
	}
}

// end is called when the client closes its side of the stream. An upload
// is complete only if its header came; an empty body is a valid archive.
func (f *uploadFraming) end() error {
	if f.err != nil {
		return f.err
	}
	if !f.header {
		return f.fail(wormvault.InvalidArgument("header", "the stream ended before the header"))
	}
	return nil
}

func (f *uploadFraming) fail(err error) error {
	f.err = err
	return err
}

// receiveHeader receives the first message of an upload and returns its
// header. A stream that breaks before it returns recv's error as is.
func receiveHeader(recv func() (*wormvaultv1.UploadArchiveRequest, error), f *uploadFraming) (*wormvaultv1.ArchiveHeader, error) {
	msg, err := recv()
	if err == io.EOF {
		return nil, f.end()
	}
	if err != nil {
		return nil, err
	}
	h, _, err := f.next(msg)
	return h, err
}

// chunkReader turns the chunk messages after the header into an
// io.Reader, through the framing rules. err keeps why reading stopped:
// io.EOF at a clean end, the framing's InvalidArgument, or ErrAborted when
// the stream broke.
type chunkReader struct {
	recv    func() (*wormvaultv1.UploadArchiveRequest, error)
	framing *uploadFraming
	buf     []byte
	err     error
}

func (c *chunkReader) Read(p []byte) (int, error) {
	for len(c.buf) == 0 {
		if c.err != nil {
			return 0, c.err
		}
		msg, err := c.recv()
		switch {
		case err == io.EOF:
			c.err = c.framing.end()
			if c.err == nil {
				c.err = io.EOF
			}
		case err != nil:
			c.err = fmt.Errorf("%w: upload stream broke: %w", wormvault.ErrAborted, err)
		default:
			_, c.buf, c.err = c.framing.next(msg)
		}
	}
	n := copy(p, c.buf)
	c.buf = c.buf[n:]
	return n, nil
}
