package sse

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/wormvault/wormvault"
)

func TestWrapKey(t *testing.T) {
	kek, dataKey := randomKey(t), randomKey(t)
	aad := []byte("vault=photos key=cat.jpg version=7")
	w, err := WrapKey(kek, dataKey, aad)
	if err != nil {
		t.Fatal(err)
	}
	if len(w) != 1+12+KeySize+16 {
		t.Errorf("wrapped key is %d bytes", len(w))
	}
	got, err := UnwrapKey(kek, w, aad)
	if err != nil || !bytes.Equal(got, dataKey) {
		t.Fatalf("UnwrapKey = %x, %v", got, err)
	}
	w2, _ := WrapKey(kek, dataKey, aad)
	if bytes.Equal(w, w2) {
		t.Error("two wraps of one key are equal: nonce not random")
	}
	flipped := bytes.Clone(w)
	flipped[20] ^= 1
	for name, tc := range map[string]struct{ kek, w, aad []byte }{
		"wrong kek":    {randomKey(t), w, aad},
		"wrong aad":    {kek, w, []byte("vault=photos key=dog.jpg version=7")},
		"no aad":       {kek, w, nil},
		"flipped byte": {kek, flipped, aad},
	} {
		if k, err := UnwrapKey(tc.kek, tc.w, tc.aad); !errors.Is(err, ErrWrongKey) || k != nil {
			t.Errorf("%s: %x, %v; want ErrWrongKey", name, k, err)
		}
	}
	bad := bytes.Clone(w)
	bad[0] = 2
	for name, b := range map[string][]byte{"version": bad, "short": w[:20], "empty": nil, "huge": make([]byte, 2000)} {
		if _, err := UnwrapKey(kek, b, aad); !errors.Is(err, wormvault.ErrDataLoss) {
			t.Errorf("%s: %v, want ErrDataLoss", name, err)
		}
	}
	if _, err := WrapKey(kek[:16], dataKey, nil); !errors.Is(err, wormvault.ErrInvalidArgument) {
		t.Errorf("short kek: %v", err)
	}
	if _, err := WrapKey(kek, nil, nil); !errors.Is(err, wormvault.ErrInvalidArgument) {
		t.Errorf("empty data key: %v", err)
	}
	if _, err := UnwrapKey(kek[:16], w, nil); !errors.Is(err, wormvault.ErrInvalidArgument) {
		t.Errorf("short kek: %v", err)
	}
}

func TestGenerateDataKey(t *testing.T) {
	a, b := randomKey(t), randomKey(t)
	if len(a) != KeySize || bytes.Equal(a, b) {
		t.Fatalf("GenerateDataKey: %x, %x", a, b)
	}
}

func TestDeriveKey(t *testing.T) {
	master := seqBytes(0, 32)
	// Pinned: keys derived today must be derivable in 20 years.
	for _, tc := range []struct {
		purpose string
		context []string
		want    string
	}{
		{"badger", nil, wantDeriveBadger},
		{"vault-kek", []string{"photos"}, wantDeriveVaultKEK},
	} {
		got := hex.EncodeToString(DeriveKey(master, tc.purpose, tc.context...))
		if got != tc.want {
			t.Errorf("DeriveKey(%q, %q) = %s, want %s", tc.purpose, tc.context, got, tc.want)
		}
	}
	seen := map[string][]string{}
	for _, in := range [][]string{{"a"}, {"b"}, {"a", ""}, {"a", "bc"}, {"ab", "c"}, {"a", "b", "c"}, {"a", "bc", ""}} {
		k := string(DeriveKey(master, in[0], in[1:]...))
		if prev, ok := seen[k]; ok {
			t.Errorf("DeriveKey%q = DeriveKey%q", in, prev)
		}
		seen[k] = in
	}
	if bytes.Equal(DeriveKey(master, "x"), DeriveKey(seqBytes(1, 32), "x")) {
		t.Error("different masters give one key")
	}
	for _, f := range []func(){func() { DeriveKey(nil, "x") }, func() { DeriveKey(master, "") }} {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			f()
		}()
	}
}

// Checked against an independent HKDF (Python hmac/hashlib) of the documented info.
const (
	wantDeriveBadger   = "e4277475ca396132e441eb4cf07ba52cd5f5f862c1adccbbd71dd24bd8420710"
	wantDeriveVaultKEK = "34188678184ed11726ab94b4d74acdc3d9a3f57532b937cbb395fa37c2e98059"
)
