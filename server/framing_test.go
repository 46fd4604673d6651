package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/wormvault/wormvault"
	"github.com/wormvault/wormvault/erasure"
	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
)

func TestMaxUploadSizeIsTheErasureLimit(t *testing.T) {
	if MaxUploadSize != erasure.MaxObjectSize {
		t.Fatalf("MaxUploadSize = %d, erasure.MaxObjectSize = %d", MaxUploadSize, int64(erasure.MaxObjectSize))
	}
}

// A uploadFrame is one step of a scripted upload stream: a message, or how Recv
// ends (io.EOF, or a broken stream).
type uploadFrame struct {
	msg *wormvaultv1.UploadArchiveRequest
	err error
}

func frameHeader(key string) uploadFrame {
	return uploadFrame{msg: &wormvaultv1.UploadArchiveRequest{Data: &wormvaultv1.UploadArchiveRequest_Header{Header: &wormvaultv1.ArchiveHeader{Vault: "v", Key: key}}}}
}

func frameNilHeader() uploadFrame {
	return uploadFrame{msg: &wormvaultv1.UploadArchiveRequest{Data: &wormvaultv1.UploadArchiveRequest_Header{}}}
}

func frameChunk(b []byte) uploadFrame {
	return uploadFrame{msg: &wormvaultv1.UploadArchiveRequest{Data: &wormvaultv1.UploadArchiveRequest_Chunk{Chunk: b}}}
}

func frameEmpty() uploadFrame { return uploadFrame{msg: &wormvaultv1.UploadArchiveRequest{}} }

var errStreamBroken = errors.New("connection reset")

func frameBroken() uploadFrame { return uploadFrame{err: errStreamBroken} }

// uploadScript replays frames as a stream's Recv, then io.EOF forever. It counts
// the calls, to check that nothing is received after the upload failed.
type uploadScript struct {
	frames []uploadFrame
	calls  int
}

func (s *uploadScript) recv() (*wormvaultv1.UploadArchiveRequest, error) {
	s.calls++
	if s.calls > len(s.frames) {
		return nil, io.EOF
	}
	f := s.frames[s.calls-1]
	return f.msg, f.err
}

// receiveUpload runs the receive path of UploadArchive over a script, reading the
// body readSize bytes at a time.
func receiveUpload(s *uploadScript, framing *uploadFraming, readSize int) (*wormvaultv1.ArchiveHeader, []byte, error) {
	h, err := receiveHeader(s.recv, framing)
	if err != nil {
		return nil, nil, err
	}
	body := &chunkReader{recv: s.recv, framing: framing}
	var got bytes.Buffer
	buf := make([]byte, readSize)
	for {
		n, err := body.Read(buf)
		got.Write(buf[:n])
		if err == io.EOF {
			return h, got.Bytes(), nil
		}
		if err != nil {
			return h, got.Bytes(), err
		}
	}
}

func TestUploadFraming(t *testing.T) {
	const maxChunk, maxTotal = 8, 20
	for _, tc := range []struct {
		name   string
		frames []uploadFrame
		// want: the body, or the field of the InvalidArgument, or
		// "aborted" / "broken" for a stream that broke after / before the
		// header; calls is how many Recv calls the upload may make.
		want, field string
		calls       int
	}{
		{"header only", []uploadFrame{frameHeader("k")}, "", "", 2},
		{"chunks", []uploadFrame{frameHeader("k"), frameChunk([]byte("abc")), frameChunk(nil), frameChunk([]byte("defgh"))}, "abcdefgh", "", 5},
		{"at the limits", []uploadFrame{frameHeader("k"), frameChunk([]byte("12345678")), frameChunk([]byte("12345678")), frameChunk([]byte("1234"))}, "12345678123456781234", "", 5},
		{"nil header", []uploadFrame{frameNilHeader(), frameChunk([]byte("x"))}, "x", "", 3},
		{"empty stream", nil, "", "header", 1},
		{"chunk first", []uploadFrame{frameChunk([]byte("x")), frameHeader("k")}, "", "header", 1},
		{"empty first", []uploadFrame{frameEmpty(), frameHeader("k")}, "", "header", 1},
		{"header twice", []uploadFrame{frameHeader("k"), frameChunk([]byte("x")), frameHeader("k2"), frameChunk([]byte("y"))}, "", "header", 3},
		{"nil header twice", []uploadFrame{frameHeader("k"), frameNilHeader()}, "", "header", 2},
		{"empty message", []uploadFrame{frameHeader("k"), frameChunk([]byte("x")), frameEmpty(), frameChunk([]byte("y"))}, "", "data", 3},
		{"chunk too large", []uploadFrame{frameHeader("k"), frameChunk(make([]byte, maxChunk+1))}, "", "chunk", 2},
		{"too much in all", []uploadFrame{frameHeader("k"), frameChunk(make([]byte, 8)), frameChunk(make([]byte, 8)), frameChunk(make([]byte, 5))}, "", "chunk", 4},
		{"broken before the header", []uploadFrame{frameBroken()}, "", "broken", 1},
		{"broken after the header", []uploadFrame{frameHeader("k"), frameChunk([]byte("x")), frameBroken()}, "", "aborted", 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &uploadScript{frames: tc.frames}
			h, got, err := receiveUpload(s, newUploadFraming(maxChunk, maxTotal), 3)
			switch tc.field {
			case "":
				if err != nil || string(got) != tc.want || h == nil {
					t.Fatalf("upload = %v, %q, %v; want %q", h, got, err, tc.want)
				}
			case "broken":
				if err != errStreamBroken {
					t.Fatalf("err = %v, want the stream's own error", err)
				}
			case "aborted":
				if !errors.Is(err, wormvault.ErrAborted) || !errors.Is(err, errStreamBroken) {
					t.Fatalf("err = %v, want ErrAborted wrapping the stream's error", err)
				}
			default:
				var ia *wormvault.InvalidArgumentError
				if !errors.As(err, &ia) || ia.Field != tc.field {
					t.Fatalf("err = %v, want InvalidArgument for %q", err, tc.field)
				}
			}
			if s.calls != tc.calls {
				t.Errorf("Recv called %d times, want %d", s.calls, tc.calls)
			}
		})
	}
}

// FuzzUploadFraming runs the receive path of UploadArchive over any
// sequence of messages, decoded from the fuzz bytes by decodeScript, with
// small limits. It must either fail exactly where and why the model says,
// with nothing received after the failure, or return the header sent and
// the chunks sent, concatenated, within the limits.
func FuzzUploadFraming(f *testing.F) {
	f.Add([]byte{0, 1, 5, 1, 0, 1, 64})
	f.Fuzz(func(t *testing.T, b []byte) {
		const maxChunk, maxTotal = 64, 200
		frames, readSize := decodeScript(b)
		s := &uploadScript{frames: frames}
		framing := newUploadFraming(maxChunk, maxTotal)
		h, got, err := receiveUpload(s, framing, readSize)

		// The model: walk the script as the rules say.
		var (
			want      []byte
			wantH     *wormvaultv1.ArchiveHeader
			wantField string // "" ok, "broken", "aborted", or an InvalidArgument field
			calls     = len(frames) + 1
		)
	walk:
		for i, fr := range frames {
			if fr.err != nil {
				wantField = "aborted"
				if i == 0 {
					wantField = "broken"
				}
				calls = i + 1
				break
			}
			var bad string
			switch d := fr.msg.GetData().(type) {
			case *wormvaultv1.UploadArchiveRequest_Header:
				if i > 0 {
					bad = "header"
				} else {
					wantH = d.Header
				}
			case *wormvaultv1.UploadArchiveRequest_Chunk:
				switch {
				case i == 0:
					bad = "header"
				case len(d.Chunk) > maxChunk || len(want)+len(d.Chunk) > maxTotal:
					bad = "chunk"
				default:
					want = append(want, d.Chunk...)
				}
			default:
				bad = "data"
				if i == 0 {
					bad = "header"
				}
			}
			if bad != "" {
				wantField, calls = bad, i+1
				break walk
			}
		}
		if len(frames) == 0 {
			wantField, calls = "header", 1
		}

		if s.calls != calls {
			t.Fatalf("Recv called %d times, want %d (uploadScript %v)", s.calls, calls, frames)
		}
		switch wantField {
		case "":
			if err != nil {
				t.Fatalf("upload failed: %v", err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("body = %x, sent %x", got, want)
			}
			if len(got) > maxTotal {
				t.Fatalf("body of %d bytes passed the limit of %d", len(got), maxTotal)
			}
			if wantH != nil && h != wantH || wantH == nil && (h == nil || h.GetKey() != "") {
				t.Fatalf("header = %v, sent %v", h, wantH)
			}
		case "broken":
			if err != errStreamBroken {
				t.Fatalf("err = %v, want the stream's own error", err)
			}
		case "aborted":
			if !errors.Is(err, wormvault.ErrAborted) || !errors.Is(err, errStreamBroken) {
				t.Fatalf("err = %v, want ErrAborted", err)
			}
		default:
			var ia *wormvault.InvalidArgumentError
			if !errors.As(err, &ia) || ia.Field != wantField {
				t.Fatalf("err = %v, want InvalidArgument for %q", err, wantField)
			}
			// A broken rule ends the upload: the framing accepts nothing more.
			if _, _, again := framing.next(frameChunk(nil).msg); again != err {
				t.Fatalf("after %v, next = %v", err, again)
			}
			if again := framing.end(); again != err {
				t.Fatalf("after %v, end = %v", err, again)
			}
		}
		// Bytes handed on before a failure are a prefix of what was sent.
		if err != nil && !bytes.HasPrefix(want, got) {
			t.Fatalf("before failing, the body read %x, not a prefix of %x", got, want)
		}
	})
}

// decodeScript turns fuzz bytes into a stream: the first byte picks the
// body read size (1..16), then each byte is a message by its low 3 bits —
// 0 header, 1 and 2 a chunk whose length is the next byte (0..255; chunks
// longer than the fuzz limit of 64 break the rules), 3 a header without
// fields, 4 an empty message, 5 a broken stream (which ends the uploadScript), 6
// and 7 a one-byte chunk of the byte's value.
func decodeScript(b []byte) ([]uploadFrame, int) {
	if len(b) == 0 {
		return nil, 1
	}
	readSize := 1 + int(b[0]%16)
	var frames []uploadFrame
	n := 0
	for i := 1; i < len(b); i++ {
		switch b[i] % 8 {
		case 0:
			frames = append(frames, frameHeader(fmt.Sprint(i)))
		case 1, 2:
			l := 0
			if i+1 < len(b) {
				i++
				l = int(b[i])
			}
			c := make([]byte, l)
			for j := range c {
				c[j] = byte(n)
				n++
			}
			frames = append(frames, frameChunk(c))
		case 3:
			frames = append(frames, frameNilHeader())
		case 4:
			frames = append(frames, frameEmpty())
		case 5:
			return append(frames, frameBroken()), readSize
		default:
			frames = append(frames, frameChunk([]byte{b[i]}))
		}
	}
	return frames, readSize
}
