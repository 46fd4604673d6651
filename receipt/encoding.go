package receipt

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/wormvault/wormvault"
)

// MaxPayloadSize bounds a payload, so Parse never allocates much for
// hostile input. A real payload is a few hundred bytes plus its key and
// hold ids.
const MaxPayloadSize = 256 << 10

// timeLayout is the one way a time is written: UTC, nine fraction digits.
const timeLayout = "2006-01-02T15:04:05.000000000Z"

// fieldCount is how many fields a v1 payload holds.
const fieldCount = 12

const sha256Size = 32

// Marshal returns the canonical bytes of st (see the package
// documentation). It refuses a statement that could not be parsed back.
func (st Statement) Marshal() ([]byte, error) {
	if err := st.validate(); err != nil {
		return nil, err
	}
	holds := slices.Clone(st.LegalHolds)
	slices.Sort(holds)
	if i := duplicate(holds); i >= 0 {
		return nil, fmt.Errorf("%w: legal hold %q listed twice", ErrMalformed, holds[i])
	}
	var b []byte
	field := func(v []byte) { b = binary.BigEndian.AppendUint32(b, uint32(len(v))); b = append(b, v...) }
	field([]byte(Domain))
	field([]byte(st.KeyID))
	field([]byte(st.Operation))
	field([]byte(st.Vault))
	field([]byte(st.Key))
	field([]byte(st.VersionID))
	field(binary.BigEndian.AppendUint64(nil, uint64(st.SizeBytes)))
	field(st.SHA256)
	mode, until := "", ""
	if st.RetentionMode != wormvault.RetentionNone {
		mode, until = st.RetentionMode.String(), formatTime(st.RetainUntil)
	}
	field([]byte(mode))
	field([]byte(until))
	var hs []byte
	for _, h := range holds {
		hs = binary.BigEndian.AppendUint32(hs, uint32(len(h)))
		hs = append(hs, h...)
	}
	field(hs)
	field([]byte(formatTime(st.CommitTime)))
	if len(b) > MaxPayloadSize {
		return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrMalformed, len(b), MaxPayloadSize)
	}
	return b, nil
}

func (st Statement) validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
	}
	if len(st.KeyID) != 16 || !isLowerHex(st.KeyID) {
		return bad("key id %q is not 16 lowercase hex digits", st.KeyID)
	}
	switch st.Operation {
	case OpUpload, OpRetention, OpLegalHold:
	default:
		return bad("unknown operation %q", st.Operation)
	}
	for _, f := range []struct{ name, v string }{{"vault", st.Vault}, {"key", st.Key}, {"version_id", st.VersionID}} {
		if f.v == "" || !utf8.ValidString(f.v) {
			return bad("%s must be non-empty UTF-8", f.name)
		}
	}
	if st.SizeBytes < 0 {
		return bad("size_bytes is negative")
	}
	if len(st.SHA256) != sha256Size {
		return bad("sha256 is %d bytes, want %d", len(st.SHA256), sha256Size)
	}
	switch st.RetentionMode {
	case wormvault.RetentionNone:
		if !st.RetainUntil.IsZero() {
			return bad("retain_until set without a retention mode")
		}
	case wormvault.RetentionGovernance, wormvault.RetentionCompliance:
		if err := checkTime("retain_until", st.RetainUntil); err != nil {
			return err
		}
	default:
		return bad("unknown retention mode %d", int(st.RetentionMode))
	}
	for _, h := range st.LegalHolds {
		if h == "" || !utf8.ValidString(h) {
			return bad("legal hold ids must be non-empty UTF-8")
		}
	}
	return checkTime("commit_time", st.CommitTime)
}

// checkTime refuses times the fixed layout cannot write (a four-digit
// year) and the zero time.
func checkTime(name string, t time.Time) error {
	if y := t.UTC().Year(); t.IsZero() || y < 1 || y > 9999 {
		return fmt.Errorf("%w: %s %v is not a time between the years 1 and 9999", ErrMalformed, name, t)
	}
	return nil
}

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

// Parse decodes a payload without checking any signature (Verify does
// both); use it to display a receipt. It accepts only the canonical
// encoding: decoding then encoding again gives the same bytes.
func Parse(payload []byte) (Statement, error) {
	bad := func(format string, args ...any) (Statement, error) {
		return Statement{}, fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
	}
	if len(payload) > MaxPayloadSize {
		return bad("%d bytes, at most %d", len(payload), MaxPayloadSize)
	}
	fields, err := splitFields(payload, fieldCount)
	if err != nil {
		return bad("%v", err)
	}
	if string(fields[0]) != Domain {
		return bad("domain is %q, want %q", fields[0], Domain)
	}
	if len(fields[6]) != 8 {
		return bad("size_bytes is %d bytes, want 8", len(fields[6]))
	}
	st := Statement{
		KeyID:     string(fields[1]),
		Operation: Operation(fields[2]),
		Vault:     string(fields[3]),
		Key:       string(fields[4]),
		VersionID: string(fields[5]),
		SizeBytes: int64(binary.BigEndian.Uint64(fields[6])),
		SHA256:    bytes.Clone(fields[7]),
	}
	switch mode := string(fields[8]); mode {
	case "":
		if len(fields[9]) != 0 {
			return bad("retain_until set without a retention mode")
		}
	case wormvault.RetentionGovernance.String(), wormvault.RetentionCompliance.String():
		st.RetentionMode, _ = wormvault.ParseRetentionMode(mode)
		if st.RetainUntil, err = parseTime("retain_until", fields[9]); err != nil {
			return Statement{}, err
		}
	default:
		return bad("unknown retention mode %q", mode)
	}
	holds, err := splitFields(fields[10], -1)
	if err != nil {
		return bad("legal_holds: %v", err)
	}
	for _, h := range holds {
		st.LegalHolds = append(st.LegalHolds, string(h))
	}
	if !slices.IsSorted(st.LegalHolds) {
		return bad("legal holds are not sorted")
	}
	if st.CommitTime, err = parseTime("commit_time", fields[11]); err != nil {
		return Statement{}, err
	}
	// Re-encoding checks every rule Marshal enforces and that nothing
	// was written in a second way.
	again, err := st.Marshal()
	if err != nil {
		return Statement{}, err
	}
	if !bytes.Equal(again, payload) {
		return bad("not in canonical form")
	}
	return st, nil
}

// splitFields splits b into length-prefixed fields: exactly n of them, or
// as many as b holds when n < 0. Nothing may be left over.
func splitFields(b []byte, n int) ([][]byte, error) {
	var out [][]byte
	for len(b) > 0 && (n < 0 || len(out) < n) {
		if len(b) < 4 {
			return nil, fmt.Errorf("field %d: truncated length", len(out)+1)
		}
		l := binary.BigEndian.Uint32(b)
		b = b[4:]
		if uint64(l) > uint64(len(b)) {
			return nil, fmt.Errorf("field %d: length %d runs past the end", len(out)+1, l)
		}
		out = append(out, b[:l])
		b = b[l:]
	}
	if n >= 0 && len(out) != n {
		return nil, fmt.Errorf("%d fields, want %d", len(out), n)
	}
	if len(b) != 0 {
		return nil, fmt.Errorf("%d bytes after the last field", len(b))
	}
	return out, nil
}

func parseTime(name string, b []byte) (time.Time, error) {
	t, err := time.Parse(timeLayout, string(b))
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: %s %q is not a time written %s", ErrMalformed, name, b, timeLayout)
	}
	return t, nil
}

func isLowerHex(s string) bool {
	_, err := hex.DecodeString(s)
	return err == nil && s == string(bytes.ToLower([]byte(s)))
}

// duplicate returns the index of the first element of sorted s equal to
// the one before it, or -1.
func duplicate(s []string) int {
	for i := 1; i < len(s); i++ {
		if s[i] == s[i-1] {
			return i
		}
	}
	return -1
}
