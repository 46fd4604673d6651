package main

import (
	"bufio"
	"bytes"
	crand "crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	client "github.com/wormvault/wormvault/clients/go"
	"github.com/wormvault/wormvault/clients/go/batch"
	"github.com/wormvault/wormvault/server/servertest"
)

// batchTree writes small files of a few hundred bytes to a few KiB in a
// nested tree, plus big files of bigSize in a directory that sorts into the
// middle of the walk, and returns each file's SHA-256 by slash-separated
// relative path.
func batchTree(t *testing.T, dir string, small, big int, bigSize int64) map[string]string {
	t.Helper()
	sums := make(map[string]string, small+big)
	rng := rand.New(rand.NewPCG(1, 2))
	write := func(rel string, size int64) {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		w := bufio.NewWriterSize(f, 1<<20)
		buf := make([]byte, min(size, 1<<20))
		for left := size; left > 0; left -= int64(len(buf)) {
			buf = buf[:min(int64(len(buf)), left)]
			crand.Read(buf) // assembly and a system call: fast under -race
			h.Write(buf)
			w.Write(buf)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		sums[rel] = hex.EncodeToString(h.Sum(nil))
	}
	dirs := max(small/100, 1)
	for i := range small {
		write(fmt.Sprintf("d%03d/s%d/f%05d.dat", i%dirs, i%3, i), 200+rng.Int64N(4<<10))
	}
	for i := range big {
		write(fmt.Sprintf("d%03dbig/big-%d.bin", dirs/2, i), bigSize)
	}
	return sums
}

// buildCLI builds the wormvault binary, without the race detector, into a
// temporary directory.
func buildCLI(t *testing.T) string {
	t.Helper()
	exe := filepath.Join(t.TempDir(), "wormvault")
	out, err := exec.CommandContext(t.Context(), "go", "build", "-o", exe, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return exe
}

// lines counts the complete lines of a file.
func lines(path string) int {
	b, _ := os.ReadFile(path)
	return bytes.Count(b, []byte("\n"))
}

// TestE2ECLIBatchAcceptance is issue #10's acceptance test: 5,000 small
// files and three of 100 MiB; the CLI is killed midway, --resume finishes
// without uploading any committed file again, the receipt's SHA-256 of
// every file is the file's, verify --deep passes, and a one-byte change to
// the receipt is caught.
func TestE2ECLIBatchAcceptance(t *testing.T) {
	small, big, bigSize := 5000, 3, int64(100<<20)
	if testing.Short() {
		small, big, bigSize = 500, 1, 8<<20
	}
	srv := servertest.Start(t)
	dir, out := t.TempDir(), t.TempDir()
	start := time.Now()
	sums := batchTree(t, dir, small, big, bigSize)
	t.Logf("tree of %d files written in %v", len(sums), time.Since(start))
	ok(t, srv, nil, "vault", "create", "bulk")
	receipt := filepath.Join(out, "bulk.json")
	put := []string{"batch", "put", "--vault", "bulk", dir, "--prefix", "in/", "--retention", "compliance:7y",
		"--receipt", receipt, "--parallel", "16", "--progress-every", "1s"}

	// The CLI is built without the race detector (the server, in this
	// process, keeps it): the test's time goes to the server, not to the
	// client's instrumentation.
	exe := buildCLI(t)
	run := func(args ...string) result {
		t.Helper()
		cmd := exec.CommandContext(t.Context(), exe, args...)
		cmd.Dir = t.TempDir()
		cmd.Env = append(os.Environ(), envServer+"="+srv.Addr, envToken+"="+srv.Token)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		code := cmd.ProcessState.ExitCode()
		if err != nil && code < 0 {
			t.Fatalf("wormvault %v: %v", args, err)
		}
		return result{stdout.String(), stderr.String(), code}
	}
	okRun := func(args ...string) string {
		t.Helper()
		r := run(args...)
		if r.code != 0 {
			t.Fatalf("wormvault %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
		}
		return r.stdout
	}

	// First run, killed (SIGKILL) once it has journaled 40% of the files.
	start = time.Now()
	cmd := exec.CommandContext(t.Context(), exe, put...)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), envServer+"="+srv.Addr, envToken+"="+srv.Token)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	journal := batch.JournalPath(receipt)
	killAt := 1 + len(sums)*2/5
wait:
	for {
		select {
		case err := <-exited:
			t.Fatalf("batch put exited (%v) before it could be killed\n%s", err, stderr.String())
		case <-time.After(10 * time.Millisecond):
			if lines(journal) >= killAt {
				break wait
			}
		}
	}
	cmd.Process.Kill()
	<-exited
	journaled := lines(journal) - 1
	t.Logf("killed after %v with %d files journaled", time.Since(start), journaled)
	if _, err := os.Stat(receipt); err == nil {
		t.Fatal("the killed run wrote a receipt")
	}

	// Without --resume the batch refuses to start over the journal.
	if r := run(put...); r.code != exitUsage || !strings.Contains(r.stderr, "resume") {
		t.Errorf("batch put again without --resume: exit %d\n%s", r.code, r.stderr)
	}

	start = time.Now()
	outText := okRun(append(put, "--resume", "--json")...)
	t.Logf("resumed in %v", time.Since(start))
	var s batch.Summary
	if err := json.Unmarshal([]byte(outText), &s); err != nil {
		t.Fatalf("--json summary %q: %v", outText, err)
	}
	if !s.Complete || s.Files != len(sums) || s.Resumed < journaled || s.Uploaded+s.Resumed+s.Adopted != len(sums) || len(s.Failures) != 0 {
		t.Errorf("resume summary %+v (journaled before the kill: %d)", s, journaled)
	}

	// Every key has exactly one version: nothing committed was uploaded
	// again.
	c, err := client.Dial(t.Context(), srv.Addr, client.WithToken(srv.Token), client.WithPageSize(1000))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	versions := map[string]int{}
	for a, err := range c.List(t.Context(), "bulk", "in/", true) {
		if err != nil {
			t.Fatal(err)
		}
		versions[a.GetKey()]++
	}
	if len(versions) != len(sums) {
		t.Errorf("vault holds %d keys, want %d", len(versions), len(sums))
	}
	for k, n := range versions {
		if n != 1 {
			t.Errorf("key %s has %d versions, want 1", k, n)
		}
	}

	// The receipt lists every file with its sha256sum.
	r, hashErr, err := batch.ReadReceipt(receipt)
	if err != nil || hashErr != nil {
		t.Fatalf("ReadReceipt: %v, %v", hashErr, err)
	}
	seen := map[string]bool{}
	for _, f := range r.Files {
		rel := strings.TrimPrefix(f.Key, "in/")
		if f.SHA256 != sums[rel] || f.RetentionMode != "COMPLIANCE" || f.RetainUntil == "" || f.Path != filepath.Join(dir, filepath.FromSlash(rel)) {
			t.Errorf("receipt row %+v; want sha256 %s", f, sums[rel])
		}
		seen[rel] = true
	}
	if len(seen) != len(sums) || len(r.Files) != len(sums) {
		t.Errorf("receipt lists %d files (%d distinct), want %d", len(r.Files), len(seen), len(sums))
	}
	// And literally sha256sum, where there is one, for the big files and
	// a few small ones.
	if sha256sum, err := exec.LookPath("sha256sum"); err == nil {
		var paths []string
		want := map[string]string{}
		for i, f := range r.Files {
			if f.SizeBytes > 1<<20 || i%1000 == 0 {
				paths = append(paths, f.Path)
				want[f.Path] = f.SHA256
			}
		}
		got, err := exec.Command(sha256sum, paths...).Output()
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(strings.TrimSpace(string(got)), "\n") {
			sum, path, _ := strings.Cut(line, "  ")
			if want[path] != sum {
				t.Errorf("sha256sum %s = %s, receipt says %s", path, sum, want[path])
			}
			delete(want, path)
		}
		if len(want) != 0 {
			t.Errorf("sha256sum did not report %v", want)
		}
	}
	if csvText, err := os.ReadFile(batch.CSVPath(receipt)); err != nil || bytes.Count(csvText, []byte("\n")) != len(sums)+1 {
		t.Errorf("CSV beside the receipt: %d lines, %v", bytes.Count(csvText, []byte("\n")), err)
	}

	start = time.Now()
	if out := okRun("batch", "verify", receipt, "--deep", "--parallel", "16"); !strings.Contains(out, fmt.Sprintf("checked %d versions (metadata and data) in vault bulk", len(sums))) ||
		!strings.HasSuffix(out, ": 0 mismatches\n") {
		t.Errorf("batch verify --deep:\n%s", out)
	}
	t.Logf("verify --deep in %v", time.Since(start))

	// One byte altered anywhere in the receipt is caught.
	raw, err := os.ReadFile(receipt)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(raw, []byte(`"size_bytes": `)) + len(`"size_bytes": `)
	altered := bytes.Clone(raw)
	altered[i] = '9'
	if raw[i] == '9' {
		altered[i] = '8'
	}
	if err := os.WriteFile(receipt, altered, 0o644); err != nil {
		t.Fatal(err)
	}
	res := run("batch", "verify", receipt)
	if res.code != exitFailure || !strings.Contains(res.stdout, "ALTERED") || !strings.Contains(res.stdout, "MISMATCH") {
		t.Errorf("verify of an altered receipt: exit %d\nstdout: %s\nstderr: %s", res.code, res.stdout, res.stderr)
	}
}

// TestE2ECLIBatchManifest covers the manifest form: per-row keys,
// retention and legal holds, the defaults from flags, and the usage errors.
func TestE2ECLIBatchManifest(t *testing.T) {
	srv := servertest.Start(t)
	ok(t, srv, nil, "vault", "create", "mani", "--retention", "governance:30d")
	dir := t.TempDir()
	for name, content := range map[string]string{"a.txt": "alpha", "b.txt": "bravo", "c.txt": "charlie"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	manifest := filepath.Join(dir, "list.csv")
	if err := os.WriteFile(manifest, []byte("path,key,retention,legal_hold,content_type\n"+
		"a.txt,docs/alpha,compliance:1y,true,text/plain\n"+
		"b.txt,,default,,\n"+
		"c.txt,docs/charlie,,no,\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	receipt := filepath.Join(t.TempDir(), "r.json")
	out := ok(t, srv, nil, "batch", "put", "--vault", "mani", "--manifest", manifest, "--prefix", "m/",
		"--retention", "governance:2d", "--legal-hold", "--receipt", receipt)
	if !strings.Contains(out, "batch put: 3 files") || !strings.Contains(out, "3 uploaded") {
		t.Errorf("batch put output:\n%s", out)
	}
	r, hashErr, err := batch.ReadReceipt(receipt)
	if err != nil || hashErr != nil {
		t.Fatal(hashErr, err)
	}
	got := map[string]string{}
	for _, f := range r.Files {
		got[f.Key] = fmt.Sprintf("%s hold=%v", f.RetentionMode, f.LegalHold)
	}
	want := map[string]string{
		"docs/alpha":   "COMPLIANCE hold=true",
		"m/b.txt":      "GOVERNANCE hold=true", // the vault default, and --legal-hold
		"docs/charlie": "GOVERNANCE hold=false",
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: %s, want %s", k, got[k], w)
		}
	}
	if out := ok(t, srv, nil, "batch", "verify", receipt, "--json"); !strings.Contains(out, `"hash_ok": true`) || !strings.Contains(out, `"mismatches": []`) {
		t.Errorf("verify --json:\n%s", out)
	}

	for _, args := range [][]string{
		{"batch", "put", dir},
		{"batch", "put", "--vault", "mani"},
		{"batch", "put", "--vault", "mani", dir, "--manifest", manifest},
		{"batch", "put", "--vault", "mani", dir, "--retention", "forever:1y"},
		{"batch", "put", "--vault", "mani", dir, "--parallel", "0"},
		{"batch", "put", "--vault", "mani", manifest},
		{"batch", "verify"},
	} {
		if r := cli(t, srv, nil, args...); r.code != exitUsage {
			t.Errorf("wormvault %s: exit %d, want 2\n%s", strings.Join(args, " "), r.code, r.stderr)
		}
	}
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("path,size\na.txt,1\n"), 0o644)
	if r := cli(t, srv, nil, "batch", "put", "--vault", "mani", "--manifest", bad); r.code != exitUsage || !strings.Contains(r.stderr, "unknown column") {
		t.Errorf("bad manifest: exit %d\n%s", r.code, r.stderr)
	}
	if r := cli(t, srv, nil, "batch", "put", "--vault", "no-such", dir, "--receipt", filepath.Join(t.TempDir(), "x.json")); r.code != exitFailure || !strings.Contains(r.stderr, "NotFound") {
		t.Errorf("missing vault: exit %d\n%s", r.code, r.stderr)
	}
}

func TestBatchProgressLine(t *testing.T) {
	p := batch.Progress{Files: 10, TotalFiles: 40, Bytes: 10 << 20, TotalBytes: 40 << 20, Transferred: 10 << 20, Failed: 2}
	got := batchProgressLine(p, 10*time.Second)
	want := "batch: 10/40 files, 10.0 MiB/40.0 MiB, 1.0 MiB/s, ETA 30s, 2 failed"
	if got != want {
		t.Errorf("batchProgressLine = %q, want %q", got, want)
	}
	if got := batchProgressLine(batch.Progress{TotalFiles: 3, TotalBytes: 5}, 0); !strings.Contains(got, "ETA -") {
		t.Errorf("no rate yet: %q", got)
	}
}
