package receipt

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"
)

// FuzzParse: Parse never panics, and whatever it accepts is canonical (it
// encodes back to the same bytes) and verifies once signed.
func FuzzParse(f *testing.F) {
	if b, err := os.ReadFile("testdata/receipt.golden"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if p, ok := strings.CutPrefix(line, "payload "); ok {
				if raw, err := hex.DecodeString(p); err == nil {
					f.Add(raw)
				}
			}
		}
	}
	// A statement without retention or holds covers the empty branches.
	st := goldenStatement()
	st.KeyID = "0123456789abcdef"
	st.LegalHolds, st.RetentionMode, st.RetainUntil = nil, 0, time.Time{}
	if b, err := st.Marshal(); err == nil {
		f.Add(b)
	}
	f.Add([]byte{})
	f.Add([]byte("\x00\x00\x00\x14wormvault receipt v1"))
	key := goldenKey()
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := Parse(b)
		if err != nil {
			return
		}
		again, err := st.Marshal()
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("accepted bytes do not re-encode: %v\n%x\n%x", err, b, again)
		}
		r, err := Sign(key, st)
		if err != nil {
			t.Fatalf("Sign of a parsed statement: %v", err)
		}
		if _, err := Verify(r, key.Public().(ed25519.PublicKey)); err != nil {
			t.Fatalf("Verify of a fresh signature: %v", err)
		}
	})
}
