package batch

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wormvault/wormvault"
	client "github.com/wormvault/wormvault/clients/go"
	"github.com/wormvault/wormvault/server/servertest"
)

// End-to-end tests of the engine against the real server on a loopback port.

func startVault(t *testing.T, vault string) (*servertest.Server, *client.Client) {
	t.Helper()
	srv := servertest.Start(t)
	c, err := client.Dial(t.Context(), srv.Addr, client.WithToken(srv.Token))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := c.CreateVault(t.Context(), vault); err != nil {
		t.Fatal(err)
	}
	return srv, c
}

// makeTree writes n files of assorted sizes (one empty, one over the SDK's
// chunk size) under dir and returns their SHA-256 by relative path.
func makeTree(t *testing.T, dir string, n int) map[string]string {
	t.Helper()
	sums := map[string]string{}
	for i := range n {
		size := 100 + 37*i
		switch i {
		case 0:
			size = 0
		case 1:
			size = client.ChunkSize*2 + 123
		}
		b := make([]byte, size)
		rand.Read(b)
		rel := fmt.Sprintf("d%d/sub%d/f%03d.bin", i%3, i%2, i)
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		s := sha256.Sum256(b)
		sums[rel] = hex.EncodeToString(s[:])
	}
	return sums
}

// versionsPerKey counts every version of every key in the vault.
func versionsPerKey(t *testing.T, c *client.Client, vault string) map[string]int {
	t.Helper()
	n := map[string]int{}
	for a, err := range c.List(t.Context(), vault, "", true) {
		if err != nil {
			t.Fatal(err)
		}
		n[a.GetKey()]++
	}
	return n
}

func checkReceipt(t *testing.T, r *Receipt, dir, prefix string, sums map[string]string) {
	t.Helper()
	if len(r.Files) != len(sums) || r.Summary.Files != len(sums) {
		t.Fatalf("receipt lists %d files (summary %d), want %d", len(r.Files), r.Summary.Files, len(sums))
	}
	for _, f := range r.Files {
		rel, err := filepath.Rel(dir, f.Path)
		if err != nil {
			t.Fatal(err)
		}
		rel = filepath.ToSlash(rel)
		if f.SHA256 != sums[rel] || f.Key != prefix+rel || f.VersionID == "" || f.CommitTime == "" {
			t.Errorf("receipt row %+v; want key %s sha256 %s", f, prefix+rel, sums[rel])
		}
	}
}

func TestPutResumeAdoptAndVerify(t *testing.T) {
	const vault = "batch-e2e"
	_, c := startVault(t, vault)
	ctx := t.Context()
	dir, out := t.TempDir(), t.TempDir()
	sums := makeTree(t, dir, 40)
	items, err := Walk(dir, "in/")
	if err != nil {
		t.Fatal(err)
	}
	receiptPath := filepath.Join(out, "receipt.json")
	cfg := Config{Vault: vault, ReceiptPath: receiptPath, Retention: "governance:1d", Parallel: 4}

	b, err := New(c, items, cfg)
	if err != nil {
		t.Fatal(err)
	}
	res, err := b.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r := res.Receipt
	checkReceipt(t, r, dir, "in/", sums)
	started, _ := time.Parse(time.RFC3339Nano, r.Summary.Started)
	for _, f := range r.Files {
		until, _ := time.Parse(time.RFC3339Nano, f.RetainUntil)
		if f.RetentionMode != "GOVERNANCE" || !until.Equal(started.AddDate(0, 0, 1)) {
			t.Errorf("%s: retention %s until %s, want GOVERNANCE until started+1d (%s)", f.Key, f.RetentionMode, f.RetainUntil, started.AddDate(0, 0, 1))
		}
	}
	if s := r.Summary; !s.Complete || s.Uploaded != 40 || s.Resumed != 0 || s.Adopted != 0 || len(s.Failures) != 0 {
		t.Errorf("summary %+v", s)
	}
	for _, f := range r.Files {
		if f.ServerReceipt == nil || f.ServerReceipt.Decoded == nil || f.ServerReceipt.Decoded.VersionID != f.VersionID {
			t.Errorf("%s: server receipt %+v", f.Key, f.ServerReceipt)
		}
	}
	if p := b.Progress(); p.Files != 40 || p.TotalFiles != 40 || p.Bytes != p.TotalBytes || p.Transferred != p.TotalBytes {
		t.Errorf("final progress %+v", p)
	}
	onDisk, hashErr, err := ReadReceipt(receiptPath)
	if err != nil || hashErr != nil || onDisk.Summary.ReceiptSHA256 != r.Summary.ReceiptSHA256 {
		t.Fatalf("ReadReceipt: %v, %v", hashErr, err)
	}

	// Without Resume, the same receipt path is refused.
	if b, err := New(c, items, cfg); err != nil {
		t.Fatal(err)
	} else if _, err := b.Run(ctx); !errors.Is(err, ErrExists) {
		t.Errorf("second run without Resume: %v, want ErrExists", err)
	}

	// A run killed after the server committed every file but before the
	// journal recorded the last 30 (and in the middle of a line): resume
	// adopts those versions instead of uploading them again.
	journalPath := JournalPath(receiptPath)
	raw, err := os.ReadFile(journalPath)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.SplitAfter(raw, []byte("\n"))
	kept := append(bytes.Join(lines[:11], nil), lines[11][:30]...) // header, 10 entries, half a line
	if err := os.WriteFile(journalPath, kept, 0o600); err != nil {
		t.Fatal(err)
	}
	os.Remove(receiptPath)
	var adoptions atomic.Int64
	cfg.Resume = true
	cfg.Logger = slog.New(countingHandler{msg: "adopting the version already committed", n: &adoptions})
	res, err = mustNew(t, c, items, cfg).Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if s := res.Receipt.Summary; !s.Complete || s.Uploaded != 0 || s.Resumed != 10 || s.Adopted != 30 || s.Started != r.Summary.Started {
		t.Errorf("resume summary %+v", s)
	}
	if adoptions.Load() != 30 {
		t.Errorf("logged %d adoptions, want 30", adoptions.Load())
	}
	checkReceipt(t, res.Receipt, dir, "in/", sums)
	signed := 0
	for _, f := range res.Receipt.Files {
		if f.ServerReceipt != nil {
			signed++
		}
	}
	if signed != 10 {
		t.Errorf("%d rows carry a server receipt after resume, want the 10 journaled (adopted versions have none)", signed)
	}
	perKey := versionsPerKey(t, c, vault)
	if len(perKey) != 40 {
		t.Errorf("%d keys in the vault, want 40", len(perKey))
	}
	for k, n := range perKey {
		if n != 1 {
			t.Errorf("key %s has %d versions, want 1", k, n)
		}
	}

	// A file changed since it was committed is a new version on resume.
	changed := filepath.Join(dir, "d2", "sub0", "f002.bin")
	if err := os.WriteFile(changed, []byte("new content"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256([]byte("new content"))
	sums["d2/sub0/f002.bin"] = hex.EncodeToString(s[:])
	res, err = mustNew(t, c, items, cfg).Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if s := res.Receipt.Summary; s.Uploaded != 1 || s.Resumed != 39 || s.Adopted != 0 {
		t.Errorf("resume after a change: %+v", s)
	}
	checkReceipt(t, res.Receipt, dir, "in/", sums)
	if n := versionsPerKey(t, c, vault)["in/d2/sub0/f002.bin"]; n != 2 {
		t.Errorf("changed file has %d versions, want 2", n)
	}

	// Verify: clean, deep; then the vault and the receipt drift apart.
	r = res.Receipt
	key, err := c.ReceiptKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, deep := range []bool{false, true} {
		ms, err := Verify(ctx, c, r, VerifyOptions{Deep: deep, Parallel: 3, ReceiptKey: key.PublicKey})
		if err != nil || len(ms) != 0 {
			t.Fatalf("Verify(deep=%v) = %v, %v", deep, ms, err)
		}
	}
	f0 := r.Files[0]
	until, _ := time.Parse(time.RFC3339Nano, f0.RetainUntil)
	if _, err := c.SetRetention(ctx, vault, f0.Key, f0.VersionID, wormvault.Retention{Mode: wormvault.RetentionGovernance, RetainUntil: until.Add(time.Hour)}, false); err != nil {
		t.Fatal(err)
	}
	r.Files[1].SHA256 = strings.Repeat("0", 64)
	r.Files[2].VersionID = "no-such-version"
	r.Summary.Bytes++
	// A row's signed server receipt, when it has one, disagrees too.
	signedToo := func(i int, field string) string {
		if r.Files[i].ServerReceipt == nil {
			return ""
		}
		return "server_receipt." + field + ","
	}
	want := "summary.bytes,retain_until," + signedToo(1, "sha256") + "sha256,data.sha256," + signedToo(2, "version_id") + "version"
	for i := 3; i < len(r.Files); i++ {
		if sr := r.Files[i].ServerReceipt; sr != nil {
			sr.Signature[0] ^= 1
			want += ",server_receipt.signature"
			break
		}
	}
	ms, err := Verify(ctx, c, r, VerifyOptions{Deep: true, ReceiptKey: key.PublicKey})
	if err != nil {
		t.Fatal(err)
	}
	var fields []string
	for _, m := range ms {
		fields = append(fields, m.Field)
	}
	if got := strings.Join(fields, ","); got != want {
		t.Errorf("mismatches %s, want %s:\n%v", got, want, ms)
	}
}

func mustNew(t *testing.T, c *client.Client, items []Item, cfg Config) *Batch {
	t.Helper()
	b, err := New(c, items, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// countingHandler counts log records with one message.
type countingHandler struct {
	msg string
	n   *atomic.Int64
}

func (h countingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h countingHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Message == h.msg {
		h.n.Add(1)
	}
	return nil
}
func (h countingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h countingHandler) WithGroup(string) slog.Handler      { return h }

func TestPutFailures(t *testing.T) {
	const vault = "batch-fail"
	_, c := startVault(t, vault)
	ctx := t.Context()
	dir := t.TempDir()
	makeTree(t, dir, 3)
	manifest := "path,key,retention,legal_hold\n" +
		"d0/sub0/f000.bin,ok0,,\n" +
		"d1/sub1/f001.bin,past,governance:2020-01-01T00:00:00Z,\n" +
		"d2/sub0/f002.bin,held,,yes\n"
	items, err := ParseManifest(strings.NewReader(manifest), dir, "")
	if err != nil {
		t.Fatal(err)
	}

	// A permanent refusal is recorded and the batch goes on.
	receiptPath := filepath.Join(t.TempDir(), "r.json")
	res, err := mustNew(t, c, items, Config{Vault: vault, ReceiptPath: receiptPath}).Run(ctx)
	if !errors.Is(err, ErrIncomplete) || res == nil {
		t.Fatalf("Run = %v, want ErrIncomplete with a result", err)
	}
	s := res.Receipt.Summary
	if s.Complete || s.Files != 2 || len(s.Failures) != 1 || s.Failures[0].Key != "past" || s.Failures[0].Code != "InvalidArgument" || s.Stopped != "" {
		t.Errorf("summary %+v", s)
	}
	for _, f := range res.Receipt.Files {
		if f.LegalHold != (f.Key == "held") {
			t.Errorf("%s: legal hold %v", f.Key, f.LegalHold)
		}
	}
	if _, hashErr, err := ReadReceipt(receiptPath); err != nil || hashErr != nil {
		t.Errorf("the receipt of an incomplete batch: %v, %v", hashErr, err)
	}

	// A file that cannot be read stops the batch before anything is sent.
	items = append(items[:1], Item{Path: filepath.Join(dir, "vanished.bin"), Key: "vanished"})
	res, err = mustNew(t, c, items, Config{Vault: vault, ReceiptPath: filepath.Join(t.TempDir(), "r.json")}).Run(ctx)
	if !errors.Is(err, ErrIncomplete) || res == nil {
		t.Fatalf("Run = %v, want ErrIncomplete", err)
	}
	if s := res.Receipt.Summary; s.Complete || s.Files != 0 || s.Uploaded != 0 || !strings.Contains(s.Stopped, "vanished.bin") {
		t.Errorf("summary %+v", s)
	}

	// A file that disappears between the listing and its upload stops the
	// batch: the uploads after it do not start.
	items, err = ParseManifest(strings.NewReader("path,key\nd0/sub0/f000.bin,s0\nd1/sub1/f001.bin,s1\nd2/sub0/f002.bin,s2\n"), dir, "")
	if err != nil {
		t.Fatal(err)
	}
	b := mustNew(t, c, items, Config{Vault: vault, ReceiptPath: filepath.Join(t.TempDir(), "r.json"), Parallel: 1})
	j, h, err := b.openJournal(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	tasks, _, err := b.plan(h.Started)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(tasks[1].Path); err != nil {
		t.Fatal(err)
	}
	b.runTasks(ctx, j, h, tasks)
	j.close()
	r := b.receipt(h, h.Started, tasks)
	if s := r.Summary; s.Complete || s.Files != 1 || r.Files[0].Key != "s0" || !strings.Contains(s.Stopped, "cannot be read") ||
		len(s.Failures) != 1 || s.Failures[0].Key != "s1" || s.Failures[0].Code != "" {
		t.Errorf("summary %+v", s)
	}

	// A vault that does not exist: nothing starts.
	if _, err := mustNew(t, c, items, Config{Vault: "no-such-vault", ReceiptPath: filepath.Join(t.TempDir(), "r.json")}).Run(ctx); !errors.Is(err, wormvault.ErrNotFound) {
		t.Errorf("missing vault: %v", err)
	}
}

// TestPutRidesOutARestart restarts the server in the middle of a batch:
// uploads that fail meanwhile are retried, and none is stored twice.
func TestPutRidesOutARestart(t *testing.T) {
	const vault = "batch-restart"
	srv, c := startVault(t, vault)
	dir := t.TempDir()
	makeTree(t, dir, 120)
	items, err := Walk(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	var retries atomic.Int64
	b := mustNew(t, c, items, Config{Vault: vault, ReceiptPath: filepath.Join(t.TempDir(), "r.json"), Parallel: 2, MaxAttempts: 30,
		Logger: slog.New(countingHandler{msg: "retrying", n: &retries})})
	type outcome struct {
		res *Result
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		res, err := b.Run(t.Context())
		done <- outcome{res, err}
	}()
	for b.Progress().Files < 20 {
		time.Sleep(5 * time.Millisecond)
	}
	srv.Restart()
	o := <-done
	if o.err != nil {
		t.Fatal(o.err)
	}
	t.Logf("%d retries; summary %+v", retries.Load(), o.res.Receipt.Summary)
	if s := o.res.Receipt.Summary; !s.Complete || s.Files != 120 || s.Uploaded+s.Adopted != 120 {
		t.Errorf("summary %+v", s)
	}
	perKey := versionsPerKey(t, c, vault)
	if len(perKey) != 120 {
		t.Errorf("%d keys in the vault, want 120", len(perKey))
	}
	for k, n := range perKey {
		if n != 1 {
			t.Errorf("key %s has %d versions, want 1", k, n)
		}
	}
}
