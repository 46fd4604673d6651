package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	client "github.com/wormvault/wormvault/clients/go"
	"github.com/wormvault/wormvault/server/servertest"
)

// TestE2ECLIReceipt: put --receipt writes a signed receipt, receipt key
// fetches the public key, and receipt verify checks the receipt with the
// server stopped; a receipt altered anywhere, or checked against another
// key, fails with exit code 1.
func TestE2ECLIReceipt(t *testing.T) {
	srv := servertest.Start(t)
	dir := t.TempDir()
	data := []byte("minutes of the board, 2031-05-06")
	sum := sha256.Sum256(data)
	file := filepath.Join(dir, "minutes.txt")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	rcpt, pemFile := filepath.Join(dir, "minutes.receipt.json"), filepath.Join(dir, "receipt-key.pem")

	ok(t, srv, nil, "vault", "create", "board")
	ok(t, srv, nil, "put", "board", "2031/minutes.txt", file, "--retention", "compliance:7y", "--legal-hold", "--receipt", rcpt)
	out := ok(t, srv, nil, "receipt", "key", "--out", pemFile)
	if !strings.Contains(out, "Ed25519") {
		t.Errorf("receipt key --out: %s", out)
	}
	if out := ok(t, srv, nil, "receipt", "key"); !strings.Contains(out, "-----BEGIN PUBLIC KEY-----") {
		t.Errorf("receipt key: %s", out)
	}
	raw, err := os.ReadFile(rcpt)
	if err != nil {
		t.Fatal(err)
	}
	var j client.ReceiptJSON
	if err := json.Unmarshal(raw, &j); err != nil || j.Decoded == nil || len(j.Payload) == 0 || len(j.Signature) != 64 || len(j.KeyID) != 16 {
		t.Fatalf("receipt file %s: %+v, %v", raw, j, err)
	}
	if d := j.Decoded; d.Operation != "upload" || d.Vault != "board" || d.Key != "2031/minutes.txt" || d.SHA256 != hex.EncodeToString(sum[:]) ||
		d.SizeBytes != int64(len(data)) || d.RetentionMode != "COMPLIANCE" || strings.Join(d.LegalHolds, ",") != "default" {
		t.Fatalf("decoded receipt %+v", d)
	}

	// Offline: nothing answers at the server's address any more.
	srv.Stop()
	out = ok(t, srv, nil, "receipt", "verify", rcpt, "--public-key", pemFile)
	for _, want := range []string{"receipt OK", j.KeyID, "2031/minutes.txt", hex.EncodeToString(sum[:]), "compliance until", "default", j.Decoded.VersionID} {
		if !strings.Contains(out, want) {
			t.Errorf("receipt verify output lacks %q:\n%s", want, out)
		}
	}
	if out := ok(t, srv, nil, "--json", "receipt", "verify", rcpt, "--public-key", pemFile); !strings.Contains(out, `"sha256":"`+hex.EncodeToString(sum[:])+`"`) {
		t.Errorf("receipt verify --json:\n%s", out)
	}

	fails := func(name string, receiptJSON []byte, key string) {
		t.Helper()
		p := filepath.Join(dir, name+".json")
		if err := os.WriteFile(p, receiptJSON, 0o600); err != nil {
			t.Fatal(err)
		}
		r := cli(t, srv, nil, "receipt", "verify", p, "--public-key", key)
		if r.code != 1 || !strings.Contains(r.stderr, "DOES NOT VERIFY") {
			t.Errorf("%s: exit %d, stderr %q, stdout %q", name, r.code, r.stderr, r.stdout)
		}
	}
	edit := func(change func(*client.ReceiptJSON)) []byte {
		var c client.ReceiptJSON
		if err := json.Unmarshal(raw, &c); err != nil {
			t.Fatal(err)
		}
		change(&c)
		b, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	fails("payload", edit(func(c *client.ReceiptJSON) {
		// Shorten the stated size by one byte: 8-byte field, last byte.
		i := bytes.Index(c.Payload, []byte("2031/minutes.txt")) + len("2031/minutes.txt")
		i += 4 + len(c.Decoded.VersionID) + 4 + 7
		c.Payload[i]--
	}), pemFile)
	fails("signature", edit(func(c *client.ReceiptJSON) { c.Signature[0] ^= 1 }), pemFile)
	fails("decoded", edit(func(c *client.ReceiptJSON) { c.Decoded.SizeBytes++ }), pemFile)
	other := filepath.Join(dir, "other.key")
	if err := os.WriteFile(other, []byte(strings.Repeat("ab", 32)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fails("other-key", raw, other)

	if r := cli(t, srv, nil, "receipt", "verify", rcpt); r.code != 2 || !strings.Contains(r.stderr, "--public-key") {
		t.Errorf("verify without --public-key: exit %d, stderr %q", r.code, r.stderr)
	}
	if r := cli(t, srv, nil, "receipt", "verify", pemFile, "--public-key", pemFile); r.code != 1 || !strings.Contains(r.stderr, "not a receipt") {
		t.Errorf("verify of a non-receipt: exit %d, stderr %q", r.code, r.stderr)
	}
}
