package receipt

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wormvault/wormvault"
)

var update = flag.Bool("update", false, "rewrite golden files")

// goldenKey is a fixed key: Ed25519 signatures are deterministic, so the
// golden file pins the signature as well as the payload.
func goldenKey() ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{0x42}, ed25519.SeedSize))
}

// goldenStatement sets every field, holds out of order.
func goldenStatement() Statement {
	sum := sha256.Sum256([]byte("ledger"))
	return Statement{
		Operation:     OpUpload,
		Vault:         "records",
		Key:           "2031/ledger.tar",
		VersionID:     "01890f2e-7c4a-7d1b-9a3e-2b1c4d5e6f70",
		SizeBytes:     1 << 40,
		SHA256:        sum[:],
		RetentionMode: wormvault.RetentionCompliance,
		RetainUntil:   time.Date(2038, 1, 19, 3, 14, 7, 5, time.FixedZone("CET", 3600)),
		LegalHolds:    []string{"case-7", "default"},
		CommitTime:    time.Date(2031, 5, 6, 7, 8, 9, 123456789, time.UTC),
	}
}

func golden(t *testing.T, name string, got []byte) []byte {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	return want
}

// TestGolden pins the canonical bytes and the signature: a receipt issued
// today must verify in twenty years, and a verifier written in another
// language can check itself against this file.
func TestGolden(t *testing.T) {
	r, err := Sign(goldenKey(), goldenStatement())
	if err != nil {
		t.Fatal(err)
	}
	got := "payload " + hex.EncodeToString(r.Payload) + "\nsignature " + hex.EncodeToString(r.Signature) + "\nkey_id " + r.KeyID + "\n"
	if want := golden(t, "receipt.golden", []byte(got)); string(want) != got {
		t.Fatalf("receipt changed:\n got %s\nwant %s", got, want)
	}
	st, err := Verify(r, goldenKey().Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	want := goldenStatement()
	want.KeyID = r.KeyID
	if !equal(st, want) {
		t.Fatalf("Verify = %+v, want %+v", st, want)
	}
	if len(r.KeyID) != 16 || r.KeyID != KeyID(goldenKey().Public().(ed25519.PublicKey)) {
		t.Fatalf("key id %q", r.KeyID)
	}
}

func equal(a, b Statement) bool {
	return a.KeyID == b.KeyID && a.Operation == b.Operation && a.Vault == b.Vault && a.Key == b.Key &&
		a.VersionID == b.VersionID && a.SizeBytes == b.SizeBytes && bytes.Equal(a.SHA256, b.SHA256) &&
		a.RetentionMode == b.RetentionMode && a.RetainUntil.Equal(b.RetainUntil) &&
		strings.Join(a.LegalHolds, "\x00") == strings.Join(sortedCopy(b.LegalHolds), "\x00") && a.CommitTime.Equal(b.CommitTime)
}

func sortedCopy(s []string) []string { return slices.Sorted(slices.Values(s)) }

// TestRoundTrip: every shape of statement the server issues comes back
// from its bytes, and the operations each verify.
func TestRoundTrip(t *testing.T) {
	key := goldenKey()
	pub := key.Public().(ed25519.PublicKey)
	tests := []struct {
		name   string
		change func(*Statement)
	}{
		{"as is", func(*Statement) {}},
		{"no retention, no hold, empty archive", func(s *Statement) {
			s.RetentionMode, s.RetainUntil, s.LegalHolds, s.SizeBytes = wormvault.RetentionNone, time.Time{}, nil, 0
		}},
		{"governance", func(s *Statement) { s.RetentionMode = wormvault.RetentionGovernance }},
		{"retention change", func(s *Statement) { s.Operation = OpRetention }},
		{"legal hold change", func(s *Statement) { s.Operation = OpLegalHold; s.LegalHolds = []string{"z", "a", "m"} }},
		{"unicode key", func(s *Statement) { s.Key = "größe/日本.txt" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := goldenStatement()
			tt.change(&st)
			r, err := Sign(key, st)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Verify(r, pub)
			if err != nil {
				t.Fatal(err)
			}
			st.KeyID = r.KeyID
			if !equal(got, st) {
				t.Fatalf("got %+v\nwant %+v", got, st)
			}
		})
	}
}

// TestEveryByteMatters: flipping any bit of the payload or the signature,
// or naming another key, fails verification.
func TestEveryByteMatters(t *testing.T) {
	key := goldenKey()
	pub := key.Public().(ed25519.PublicKey)
	r, err := Sign(key, goldenStatement())
	if err != nil {
		t.Fatal(err)
	}
	for i := range r.Payload {
		bad := r
		bad.Payload = bytes.Clone(r.Payload)
		bad.Payload[i] ^= 0x01
		if _, err := Verify(bad, pub); !errors.Is(err, ErrSignature) {
			t.Fatalf("payload byte %d flipped: %v, want ErrSignature", i, err)
		}
	}
	for i := range r.Signature {
		bad := r
		bad.Signature = bytes.Clone(r.Signature)
		bad.Signature[i] ^= 0x80
		if _, err := Verify(bad, pub); !errors.Is(err, ErrSignature) {
			t.Fatalf("signature byte %d flipped: %v, want ErrSignature", i, err)
		}
	}
	other := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32))
	if _, err := Verify(r, other.Public().(ed25519.PublicKey)); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("another public key: %v, want ErrWrongKey", err)
	}
	// Another key that signs and claims to be ours still fails.
	forged, err := Sign(other, goldenStatement())
	if err != nil {
		t.Fatal(err)
	}
	forged.KeyID = r.KeyID
	if _, err := Verify(forged, pub); !errors.Is(err, ErrSignature) {
		t.Fatalf("forged by another key: %v, want ErrSignature", err)
	}
	if _, err := Verify(r, pub[:31]); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("short public key: %v", err)
	}
}

// TestMarshalRefuses lists the statements that have no canonical form.
func TestMarshalRefuses(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Statement)
	}{
		{"key id", func(s *Statement) { s.KeyID = "ABCDEF0123456789" }},
		{"operation", func(s *Statement) { s.Operation = "delete" }},
		{"empty vault", func(s *Statement) { s.Vault = "" }},
		{"empty key", func(s *Statement) { s.Key = "" }},
		{"invalid utf-8 key", func(s *Statement) { s.Key = "\xff" }},
		{"empty version", func(s *Statement) { s.VersionID = "" }},
		{"negative size", func(s *Statement) { s.SizeBytes = -1 }},
		{"short sha256", func(s *Statement) { s.SHA256 = s.SHA256[:31] }},
		{"mode without until", func(s *Statement) { s.RetainUntil = time.Time{} }},
		{"until without mode", func(s *Statement) { s.RetentionMode = wormvault.RetentionNone }},
		{"unknown mode", func(s *Statement) { s.RetentionMode = 9 }},
		{"empty hold", func(s *Statement) { s.LegalHolds = []string{""} }},
		{"duplicate hold", func(s *Statement) { s.LegalHolds = []string{"a", "b", "a"} }},
		{"no commit time", func(s *Statement) { s.CommitTime = time.Time{} }},
		{"year 10000", func(s *Statement) { s.CommitTime = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := goldenStatement()
			st.KeyID = "0123456789abcdef"
			tt.change(&st)
			if _, err := st.Marshal(); !errors.Is(err, ErrMalformed) {
				t.Fatalf("Marshal = %v, want ErrMalformed", err)
			}
		})
	}
}

// TestParseRefuses: bytes that are not exactly what Marshal writes.
func TestParseRefuses(t *testing.T) {
	st := goldenStatement()
	st.KeyID = "0123456789abcdef"
	good, err := st.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	fields, err := splitFields(good, fieldCount)
	if err != nil {
		t.Fatal(err)
	}
	join := func(fs [][]byte) []byte {
		var b []byte
		for _, f := range fs {
			b = binary.BigEndian.AppendUint32(b, uint32(len(f)))
			b = append(b, f...)
		}
		return b
	}
	with := func(i int, v string) []byte {
		fs := append([][]byte(nil), fields...)
		fs[i] = []byte(v)
		return join(fs)
	}
	tests := map[string][]byte{
		"empty":                 nil,
		"truncated":             good[:len(good)-1],
		"trailing byte":         append(bytes.Clone(good), 0),
		"eleven fields":         join(fields[:11]),
		"thirteen fields":       join(append(append([][]byte(nil), fields...), []byte("x"))),
		"other domain":          with(0, "wormvault receipt v2"),
		"short size":            with(6, "1234567"),
		"lowercase mode":        with(8, "compliance"),
		"time with 3 digits":    with(11, "2031-05-06T07:08:09.123Z"),
		"time in another zone":  with(11, "2031-05-06T08:08:09.123456789+01:00"),
		"unsorted holds":        with(10, string(join([][]byte{[]byte("z"), []byte("a")}))),
		"duplicate holds":       with(10, string(join([][]byte{[]byte("a"), []byte("a")}))),
		"truncated hold length": with(10, "\x00\x00"),
		"huge length":           append([]byte{0xff, 0xff, 0xff, 0xff}, good[4:]...),
		"too big":               make([]byte, MaxPayloadSize+1),
	}
	for name, b := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := Parse(b); !errors.Is(err, ErrMalformed) {
				t.Fatalf("Parse = %v, want ErrMalformed", err)
			}
		})
	}
	if _, err := Parse(good); err != nil {
		t.Fatalf("Parse(good) = %v", err)
	}
}

func TestPublicKeyFormats(t *testing.T) {
	pub := goldenKey().Public().(ed25519.PublicKey)
	pemBytes, err := MarshalPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(pemBytes, []byte("-----BEGIN PUBLIC KEY-----")) {
		t.Fatalf("PEM:\n%s", pemBytes)
	}
	for name, in := range map[string][]byte{
		"pem":    pemBytes,
		"hex":    []byte(hex.EncodeToString(pub) + "\n"),
		"base64": []byte(" " + base64.StdEncoding.EncodeToString(pub) + "\n"),
	} {
		got, err := ParsePublicKey(in)
		if err != nil || !got.Equal(pub) {
			t.Fatalf("%s: %x, %v", name, got, err)
		}
	}
	for _, bad := range []string{"", "not a key", hex.EncodeToString(pub[:31]), "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"} {
		if _, err := ParsePublicKey([]byte(bad)); err == nil {
			t.Fatalf("ParsePublicKey(%q) succeeded", bad)
		}
	}
}
