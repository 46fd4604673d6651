package main

import (
	"bytes"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wormvault/wormvault/server/servertest"
)

// put, get and stat with --sse-c-key over TLS; a wrong key and a missing
// key are refused; without TLS nothing is sent.
func TestE2ECLICustomerKey(t *testing.T) {
	srv := servertest.Start(t, servertest.WithDevTLS())
	ca := srv.Config().DevTLSCertFile()
	dir := t.TempDir()
	keyFile, otherFile := filepath.Join(dir, "ssec.key"), filepath.Join(dir, "other.key")
	ok(t, srv, nil, "client-key", "generate", keyFile)
	ok(t, srv, nil, "client-key", "generate", otherFile)
	data := make([]byte, 150<<10)
	rand.Read(data)
	in := filepath.Join(dir, "in.bin")
	os.WriteFile(in, data, 0o600)

	ok(t, srv, nil, "--tls-ca", ca, "vault", "create", "cli-ssec")
	if out := ok(t, srv, nil, "--tls-ca", ca, "put", "cli-ssec", "k", in, "--sse-c-key", keyFile); !strings.Contains(out, "CUSTOMER") {
		t.Errorf("put --sse-c-key:\n%s", out)
	}
	out := filepath.Join(dir, "out.bin")
	ok(t, srv, nil, "--tls-ca", ca, "get", "cli-ssec", "k", "-o", out, "--sse-c-key", keyFile)
	if got, _ := os.ReadFile(out); !bytes.Equal(got, data) {
		t.Fatalf("get --sse-c-key: %d bytes differ from the %d put", len(got), len(data))
	}
	if s := ok(t, srv, nil, "--tls-ca", ca, "stat", "cli-ssec", "k", "--sse-c-key", keyFile); !strings.Contains(s, "CUSTOMER") {
		t.Errorf("stat --sse-c-key:\n%s", s)
	}
	for _, args := range [][]string{
		{"--tls-ca", ca, "get", "cli-ssec", "k", "--sse-c-key", otherFile},
		{"--tls-ca", ca, "get", "cli-ssec", "k"},
		{"--tls-ca", ca, "stat", "cli-ssec", "k"},
	} {
		if r := cli(t, srv, nil, args...); r.code == 0 || r.stdout != "" {
			t.Errorf("wormvault %s: exit %d, stdout %d bytes", strings.Join(args, " "), r.code, len(r.stdout))
		}
	}
	plain := servertest.Start(t)
	ok(t, plain, nil, "vault", "create", "cli-ssec")
	if r := cli(t, plain, nil, "put", "cli-ssec", "k", in, "--sse-c-key", keyFile); r.code == 0 || !strings.Contains(r.stderr, "TLS") {
		t.Errorf("put --sse-c-key without TLS: exit %d\n%s", r.code, r.stderr)
	}
}

// admin rotate-master-key rotates and archives read on.
func TestE2ECLIRotateMasterKey(t *testing.T) {
	srv := servertest.Start(t)
	dir := t.TempDir()
	data := make([]byte, 200<<10)
	rand.Read(data)
	in := filepath.Join(dir, "in.bin")
	os.WriteFile(in, data, 0o600)
	ok(t, srv, nil, "vault", "create", "cli-rot")
	ok(t, srv, nil, "put", "cli-rot", "k", in)
	rep := ok(t, srv, nil, "admin", "rotate-master-key")
	if !strings.Contains(rep, "re-wrapped 1 archive versions") || !strings.Contains(rep, "master.key.old-") {
		t.Errorf("admin rotate-master-key:\n%s", rep)
	}
	out := filepath.Join(dir, "out.bin")
	ok(t, srv, nil, "get", "cli-rot", "k", "-o", out)
	if got, _ := os.ReadFile(out); !bytes.Equal(got, data) {
		t.Fatal("the archive differs after the rotation")
	}
}
