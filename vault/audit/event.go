package audit

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/minio/sha256-simd"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/wormvault/wormvault"
	recordv1 "github.com/wormvault/wormvault/proto/wormvault/record/v1"
)

// ErrTampered means the stored trail is not the one wormvault wrote: an
// event or checkpoint does not decode, does not match its digest or HMAC,
// or the chain is broken.
var ErrTampered = fmt.Errorf("%w: audit trail does not verify", wormvault.ErrDataLoss)

// shaField is recordv1.AuditEvent.sha256; its tag is one byte, so every
// stored event ends with the same 34-byte trailer: tag, length 32, digest.
const (
	shaField   = 15
	trailerLen = 1 + 1 + sha256.Size
)

var shaTag = protowire.AppendTag(nil, shaField, protowire.BytesType)

// encodeEvent sets ev.Sha256 and returns the stored bytes: the deterministic
// encoding of ev without Sha256 (the body), then the sha256 field holding
// SHA-256(body). Protobuf decodes the concatenation as the whole event.
func encodeEvent(ev *recordv1.AuditEvent) ([]byte, error) {
	ev.Sha256 = nil
	body, err := proto.MarshalOptions{Deterministic: true}.Marshal(ev)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(body)
	ev.Sha256 = sum[:]
	return protowire.AppendBytes(protowire.AppendTag(body, shaField, protowire.BytesType), sum[:]), nil
}

// parseEvent decodes stored bytes without checking the digest; it returns
// the body the digest must cover.
func parseEvent(b []byte) (*recordv1.AuditEvent, []byte, error) {
	if len(b) < trailerLen {
		return nil, nil, fmt.Errorf("%w: event is %d bytes, too short", ErrTampered, len(b))
	}
	body, tr := b[:len(b)-trailerLen], b[len(b)-trailerLen:]
	if tr[0] != shaTag[0] || tr[1] != sha256.Size {
		return nil, nil, fmt.Errorf("%w: event does not end with its sha256", ErrTampered)
	}
	ev := new(recordv1.AuditEvent)
	if err := proto.Unmarshal(body, ev); err != nil {
		return nil, nil, fmt.Errorf("%w: event does not decode: %v", ErrTampered, err)
	}
	if ev.Sha256 != nil {
		return nil, nil, fmt.Errorf("%w: event carries a second sha256", ErrTampered)
	}
	ev.Sha256 = bytes.Clone(tr[2:])
	return ev, body, nil
}

// DecodeEvent decodes an event as stored in the catalog and checks its
// sha256 against its bytes. Errors wrap ErrTampered.
func DecodeEvent(b []byte) (*recordv1.AuditEvent, error) {
	ev, body, err := parseEvent(b)
	if err != nil {
		return nil, err
	}
	if sum := sha256.Sum256(body); !bytes.Equal(sum[:], ev.Sha256) {
		return nil, fmt.Errorf("%w: sha256 does not match the event's bytes", ErrTampered)
	}
	return ev, nil
}

// reason is err's message without ErrTampered's, for a Report.
func reason(err error) string {
	return strings.TrimPrefix(err.Error(), ErrTampered.Error()+": ")
}
