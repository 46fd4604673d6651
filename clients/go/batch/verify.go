package batch

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wormvault/wormvault"
	client "github.com/wormvault/wormvault/clients/go"
	"github.com/wormvault/wormvault/receipt"
)

// Mismatch is one way a receipt row and the vault disagree.
type Mismatch struct {
	Path      string `json:"path"`
	Key       string `json:"key"`
	VersionID string `json:"version_id"`
	// Field names what differs: a receipt field, "version" when the
	// version cannot be found or read, "data" for the bytes (deep).
	Field   string `json:"field"`
	Receipt string `json:"receipt"`
	Vault   string `json:"vault"`
}

func (m Mismatch) String() string {
	return fmt.Sprintf("%s (%s version %s): %s: receipt %q, vault %q", m.Path, m.Key, m.VersionID, m.Field, m.Receipt, m.Vault)
}

// VerifyOptions configures Verify.
type VerifyOptions struct {
	// Deep downloads every version and hashes its bytes.
	Deep bool
	// Parallel is the number of versions checked at once; 0 means
	// DefaultParallel.
	Parallel int
	// ReceiptKey, when set, is the public key that signs the server's
	// receipts: each row's server_receipt must verify with it and state
	// what the row states. Nil skips that check.
	ReceiptKey ed25519.PublicKey
	// Checked, when set, is called after each file is checked.
	Checked func(n int)
}

// Verify re-reads from the server the metadata of every version the receipt
// lists (and with Deep its bytes) and returns every disagreement, in
// receipt order. It also checks the summary's totals against the rows. err
// is only for a context that ended.
func Verify(ctx context.Context, c *client.Client, r *Receipt, o VerifyOptions) ([]Mismatch, error) {
	parallel := o.Parallel
	if parallel <= 0 {
		parallel = DefaultParallel
	}
	var summary []Mismatch
	var bytes int64
	for _, f := range r.Files {
		bytes += f.SizeBytes
	}
	if r.Summary.Files != len(r.Files) {
		summary = append(summary, Mismatch{Field: "summary.files", Receipt: strconv.Itoa(r.Summary.Files), Vault: strconv.Itoa(len(r.Files)) + " rows"})
	}
	if r.Summary.Bytes != bytes {
		summary = append(summary, Mismatch{Field: "summary.bytes", Receipt: strconv.FormatInt(r.Summary.Bytes, 10), Vault: strconv.FormatInt(bytes, 10) + " in rows"})
	}
	found := make([][]Mismatch, len(r.Files))
	jobs := make(chan int)
	var wg sync.WaitGroup
	var checked atomic.Int64
	for range parallel {
		wg.Go(func() {
			for i := range jobs {
				found[i] = verifyFile(ctx, c, r.Files[i], o)
				if n := checked.Add(1); o.Checked != nil {
					o.Checked(int(n))
				}
			}
		})
	}
	for i := range r.Files {
		select {
		case jobs <- i:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(jobs)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for _, m := range found {
		summary = append(summary, m...)
	}
	return summary, nil
}

// verifyFile checks one row against the server.
func verifyFile(ctx context.Context, c *client.Client, f File, o VerifyOptions) []Mismatch {
	var ms []Mismatch
	diff := func(field, want, got string) {
		if want != got {
			ms = append(ms, Mismatch{Path: f.Path, Key: f.Key, VersionID: f.VersionID, Field: field, Receipt: want, Vault: got})
		}
	}
	if f.VersionID == "" {
		diff("version_id", "", "(a receipt row needs one)")
		return ms
	}
	if f.ServerReceipt != nil && o.ReceiptKey != nil {
		ms = append(ms, checkServerReceipt(f, o.ReceiptKey)...)
	}
	a, err := c.Stat(ctx, f.Vault, f.Key, f.VersionID)
	if err != nil {
		got := err.Error()
		if errors.Is(err, wormvault.ErrNotFound) {
			got = "not found"
		}
		diff("version", f.VersionID, got)
		return ms
	}
	r := client.RetentionFromProto(a.GetRetention())
	until := ""
	if !r.IsZero() {
		until = r.RetainUntil.UTC().Format(time.RFC3339Nano)
	}
	diff("delete_marker", "false", strconv.FormatBool(a.GetDeleteMarker()))
	diff("size_bytes", strconv.FormatInt(f.SizeBytes, 10), strconv.FormatInt(a.GetSizeBytes(), 10))
	diff("sha256", f.SHA256, hex.EncodeToString(a.GetSha256()))
	diff("retention_mode", f.RetentionMode, r.Mode.String())
	diff("retain_until", normalTime(f.RetainUntil), until)
	diff("legal_hold", strconv.FormatBool(f.LegalHold), strconv.FormatBool(a.GetLegalHold()))
	diff("commit_time", normalTime(f.CommitTime), a.GetCreateTime().AsTime().UTC().Format(time.RFC3339Nano))
	if o.Deep && !a.GetDeleteMarker() {
		n, sum, err := download(ctx, c, f)
		switch {
		case err != nil:
			diff("data", f.SHA256, "unreadable: "+err.Error())
		default:
			diff("data.size_bytes", strconv.FormatInt(f.SizeBytes, 10), strconv.FormatInt(n, 10))
			diff("data.sha256", f.SHA256, sum)
		}
	}
	return ms
}

// checkServerReceipt checks a row's signed server receipt: the signature,
// and that it states the row's upload. In these mismatches Vault is what
// the signed statement says.
func checkServerReceipt(f File, key ed25519.PublicKey) []Mismatch {
	var ms []Mismatch
	diff := func(field, want, got string) {
		if want != got {
			ms = append(ms, Mismatch{Path: f.Path, Key: f.Key, VersionID: f.VersionID, Field: "server_receipt." + field, Receipt: want, Vault: got})
		}
	}
	st, err := f.ServerReceipt.Verify(key)
	if err != nil {
		diff("signature", "valid", err.Error())
		return ms
	}
	until := ""
	if st.RetentionMode != wormvault.RetentionNone {
		until = st.RetainUntil.UTC().Format(time.RFC3339Nano)
	}
	diff("operation", string(receipt.OpUpload), string(st.Operation))
	diff("vault", f.Vault, st.Vault)
	diff("key", f.Key, st.Key)
	diff("version_id", f.VersionID, st.VersionID)
	diff("size_bytes", strconv.FormatInt(f.SizeBytes, 10), strconv.FormatInt(st.SizeBytes, 10))
	diff("sha256", f.SHA256, hex.EncodeToString(st.SHA256))
	diff("retention_mode", f.RetentionMode, st.RetentionMode.String())
	diff("retain_until", normalTime(f.RetainUntil), until)
	diff("legal_hold", strconv.FormatBool(f.LegalHold), strconv.FormatBool(len(st.LegalHolds) > 0))
	diff("commit_time", normalTime(f.CommitTime), st.CommitTime.UTC().Format(time.RFC3339Nano))
	return ms
}

// normalTime rewrites an RFC 3339 time in the form fileOf writes, so that
// an equivalent spelling is not a mismatch; a malformed one is returned as
// is and will not match.
func normalTime(s string) string {
	if s == "" {
		return ""
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return s
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// download reads a version's bytes and hashes them, streaming.
func download(ctx context.Context, c *client.Client, f File) (int64, string, error) {
	_, rc, err := c.Download(ctx, f.Vault, f.Key, client.WithVersion(f.VersionID))
	if err != nil {
		return 0, "", err
	}
	defer rc.Close()
	h := sha256.New()
	n, err := io.Copy(h, rc)
	if err != nil {
		return n, "", err
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}
