package main

import (
	"bytes"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"

	client "github.com/wormvault/wormvault/clients/go"
	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
	"github.com/wormvault/wormvault/server/servertest"
)

func TestE2ECLIClientKey(t *testing.T) {
	srv := servertest.Start(t)
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "client.key")
	otherKey := filepath.Join(dir, "other.key")

	out := ok(t, srv, nil, "client-key", "generate", keyFile)
	if !strings.Contains(out, "wrote a new client key to "+keyFile) || !strings.Contains(out, "key id ") {
		t.Errorf("client-key generate:\n%s", out)
	}
	if fi, err := os.Stat(keyFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v, %v; want mode 0600", fi, err)
	}
	before, _ := os.ReadFile(keyFile)
	if r := cli(t, srv, nil, "client-key", "generate", keyFile); r.code != 1 || !strings.Contains(r.stderr, "already exists") {
		t.Errorf("generate over an existing key: exit %d, stderr %q", r.code, r.stderr)
	}
	if after, _ := os.ReadFile(keyFile); !bytes.Equal(before, after) {
		t.Fatal("generate replaced an existing key file")
	}
	ck, err := client.LoadClientKey(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if out := ok(t, srv, nil, "client-key", "id", keyFile); out != keyFile+": key id "+ck.ID()+"\n" {
		t.Errorf("client-key id = %q", out)
	}
	if out := ok(t, srv, nil, "client-key", "id", keyFile, "--json"); !strings.Contains(out, `"keyId":"`+ck.ID()+`"`) {
		t.Errorf("client-key id --json = %q", out)
	}
	ok(t, srv, nil, "client-key", "generate", otherKey)

	marker := []byte("client-side-encryption-marker!!!")
	data := bytes.Repeat(marker, 6000) // 192000 bytes: three packages
	tail := make([]byte, 777)
	rand.Read(tail)
	data = append(data, tail...)
	file := filepath.Join(dir, "in.bin")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	ok(t, srv, nil, "vault", "create", "private")

	var a wormvaultv1.Archive
	if err := protojson.Unmarshal([]byte(ok(t, srv, nil, "put", "private", "doc", file, "--client-key", keyFile, "--json")), &a); err != nil {
		t.Fatal(err)
	}
	if a.GetMetadata()[client.MetadataCSEKeyID] != ck.ID() || a.GetSizeBytes() == int64(len(data)) {
		t.Errorf("put --client-key stored %v", &a)
	}
	ok(t, srv, []byte("from stdin"), "put", "private", "small", "-", "--client-key", keyFile)

	// get decrypts to a file, to stdout, and a range across a package boundary.
	dst := filepath.Join(dir, "out.bin")
	r := cli(t, srv, nil, "get", "private", "doc", "-o", dst, "--client-key", keyFile)
	if r.code != 0 || strings.Contains(r.stderr, "warning") {
		t.Fatalf("get --client-key: exit %d, stderr %q", r.code, r.stderr)
	}
	if got, err := os.ReadFile(dst); err != nil || !bytes.Equal(got, data) {
		t.Errorf("get -o --client-key: %d bytes, %v", len(got), err)
	}
	if got := ok(t, srv, nil, "get", "private", "small", "--client-key", keyFile); got != "from stdin" {
		t.Errorf("get small = %q", got)
	}
	if got := ok(t, srv, nil, "get", "private", "doc", "--client-key", keyFile, "--offset", "65000", "--length", "2000"); got != string(data[65000:67000]) {
		t.Errorf("ranged get --client-key: %d bytes", len(got))
	}

	// Without the key: the ciphertext, and a warning.
	r = cli(t, srv, nil, "get", "private", "doc")
	if r.code != 0 || !strings.Contains(r.stderr, "warning") || !strings.Contains(r.stderr, "client-side encrypted") || !strings.Contains(r.stderr, ck.ID()) {
		t.Errorf("get without the key: exit %d, stderr %q", r.code, r.stderr)
	}
	if int64(len(r.stdout)) != a.GetSizeBytes() || strings.Contains(r.stdout, string(marker)) {
		t.Errorf("get without the key wrote %d bytes (marker present: %v), want the %d-byte ciphertext",
			len(r.stdout), strings.Contains(r.stdout, string(marker)), a.GetSizeBytes())
	}

	// Another key is refused before anything is written.
	wrongDst := filepath.Join(dir, "wrong.bin")
	r = cli(t, srv, nil, "get", "private", "doc", "-o", wrongDst, "--client-key", otherKey)
	if r.code != 1 || !strings.Contains(r.stderr, "another client key") {
		t.Errorf("get with another key: exit %d, stderr %q", r.code, r.stderr)
	}
	if _, err := os.Stat(wrongDst); !os.IsNotExist(err) {
		t.Errorf("get with another key left %s: %v", wrongDst, err)
	}

	// A key file others can read is refused.
	loose := filepath.Join(dir, "loose.key")
	if err := os.WriteFile(loose, before, 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chmod(loose, 0o644)
	if r := cli(t, srv, nil, "put", "private", "loose", file, "--client-key", loose); r.code != 1 || !strings.Contains(r.stderr, "permissions") {
		t.Errorf("put with a 0644 key: exit %d, stderr %q", r.code, r.stderr)
	}
	if r := cli(t, srv, nil, "put", "private", "nokey", file, "--client-key", filepath.Join(dir, "missing.key")); r.code != 1 {
		t.Errorf("put with a missing key file: exit %d, stderr %q", r.code, r.stderr)
	}
}
