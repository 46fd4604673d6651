package batch

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	client "github.com/wormvault/wormvault/clients/go"
	"github.com/wormvault/wormvault/internal/atomicfile"
)

// ReceiptFormat names the receipt's format and version.
const ReceiptFormat = "wormvault batch receipt v1"

// Receipt is what a batch committed: one row per file and a summary.
type Receipt struct {
	Format  string  `json:"format"`
	Vault   string  `json:"vault"`
	Files   []File  `json:"files"`
	Summary Summary `json:"summary"`
}

// File is one committed version, as the server reported it.
type File struct {
	Path      string `json:"path"`
	Vault     string `json:"vault"`
	Key       string `json:"key"`
	VersionID string `json:"version_id"`
	SizeBytes int64  `json:"size_bytes"`
	// SHA256 is the hex SHA-256 of the file's bytes.
	SHA256 string `json:"sha256"`
	// RetentionMode is GOVERNANCE, COMPLIANCE or NONE.
	RetentionMode string `json:"retention_mode"`
	// RetainUntil is RFC 3339 (with the server's sub-second digits, if
	// any), empty when the version has no retention.
	RetainUntil string `json:"retain_until"`
	LegalHold   bool   `json:"legal_hold"`
	// CommitTime is the version's create time, RFC 3339 with nanoseconds,
	// UTC.
	CommitTime string `json:"commit_time"`
	// ServerReceipt is the server's signed receipt of the upload, when
	// this batch uploaded the version and the server sent one (an adopted
	// version has none: its answer was lost).
	ServerReceipt *client.ReceiptJSON `json:"server_receipt,omitempty"`
}

// Summary totals a batch run.
type Summary struct {
	// Files and Bytes count the files listed in the receipt.
	Files int   `json:"files"`
	Bytes int64 `json:"bytes"`
	// Uploaded, Resumed and Adopted split Files by how this run got them:
	// uploaded now, found in the journal, found already committed.
	Uploaded int `json:"uploaded"`
	Resumed  int `json:"resumed"`
	Adopted  int `json:"adopted"`
	// Started is when the batch first started (kept across resumes);
	// RunStarted and Finished bound this run; Duration is this run's.
	Started         string  `json:"started"`
	RunStarted      string  `json:"run_started"`
	Finished        string  `json:"finished"`
	Duration        string  `json:"duration"`
	DurationSeconds float64 `json:"duration_seconds"`
	// Complete is true when every item of the batch is in Files.
	Complete bool      `json:"complete"`
	Failures []Failure `json:"failures"`
	// Stopped says why the run stopped early, if it did.
	Stopped string `json:"stopped,omitempty"`
	// CSVSHA256 is the hex SHA-256 of the CSV written beside the receipt.
	CSVSHA256 string `json:"csv_sha256"`
	// ReceiptSHA256 is the hex SHA-256 of the receipt's bytes with this
	// value empty; see the package documentation.
	ReceiptSHA256 string `json:"receipt_sha256"`
}

// Failure is an item that was not committed.
type Failure struct {
	Path string `json:"path"`
	Key  string `json:"key"`
	// Code is the gRPC code name when the server refused, else empty.
	Code  string `json:"code,omitempty"`
	Error string `json:"error"`
}

// csvColumns are the CSV's header: the receipt's file fields.
var csvColumns = []string{"path", "vault", "key", "version_id", "size_bytes", "sha256", "retention_mode", "retain_until", "legal_hold", "commit_time"}

// hashField is the receipt_sha256 member exactly as encoding/json indents it.
const hashField = `"receipt_sha256": "`

// CSVPath is where the CSV of a receipt goes: the receipt's path with .csv
// for its .json extension, else with .csv appended.
func CSVPath(receiptPath string) string {
	if ext := filepath.Ext(receiptPath); strings.EqualFold(ext, ".json") {
		return strings.TrimSuffix(receiptPath, ext) + ".csv"
	}
	return receiptPath + ".csv"
}

// JournalPath is where a receipt's journal goes.
func JournalPath(receiptPath string) string { return receiptPath + ".journal" }

// MarshalCSV encodes the file rows as CSV with a header.
func MarshalCSV(files []File) ([]byte, error) {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write(csvColumns)
	for _, f := range files {
		w.Write([]string{f.Path, f.Vault, f.Key, f.VersionID, strconv.FormatInt(f.SizeBytes, 10), f.SHA256,
			f.RetentionMode, f.RetainUntil, strconv.FormatBool(f.LegalHold), f.CommitTime})
	}
	w.Flush()
	return b.Bytes(), w.Error()
}

// Marshal encodes r, sets r.Summary.CSVSHA256 from csvBytes and
// r.Summary.ReceiptSHA256 to the hash of the bytes with that value empty,
// and returns the bytes with the hash in place.
func (r *Receipt) Marshal(csvBytes []byte) ([]byte, error) {
	csvSum := sha256.Sum256(csvBytes)
	r.Summary.CSVSHA256 = hex.EncodeToString(csvSum[:])
	r.Summary.ReceiptSHA256 = ""
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("batch: encoding receipt: %w", err)
	}
	b = append(b, '\n')
	blank := []byte(hashField + `"`)
	if bytes.Count(b, blank) != 1 {
		return nil, errors.New("batch: encoding receipt: receipt_sha256 not found exactly once")
	}
	sum := sha256.Sum256(b)
	r.Summary.ReceiptSHA256 = hex.EncodeToString(sum[:])
	return bytes.Replace(b, blank, []byte(hashField+r.Summary.ReceiptSHA256+`"`), 1), nil
}

// WriteReceipt writes r to path and its CSV beside it, each atomically
// (temporary file, fsync, rename), the CSV first so that a receipt on disk
// always has its CSV.
func WriteReceipt(path string, r *Receipt) error {
	c, err := MarshalCSV(r.Files)
	if err != nil {
		return fmt.Errorf("batch: encoding receipt CSV: %w", err)
	}
	b, err := r.Marshal(c)
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(CSVPath(path), c, 0o644); err != nil {
		return fmt.Errorf("batch: writing receipt CSV: %w", err)
	}
	if err := atomicfile.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("batch: writing receipt: %w", err)
	}
	return nil
}

// ErrReceiptAltered means a receipt's bytes do not hash to its
// receipt_sha256 (or its CSV to csv_sha256).
var ErrReceiptAltered = errors.New("batch: receipt altered")

// VerifyReceiptHash checks the raw bytes of a receipt against the
// receipt_sha256 they carry. It returns an error wrapping ErrReceiptAltered
// on a mismatch, or when the field is missing, repeated or malformed.
func VerifyReceiptHash(raw []byte) error {
	if n := bytes.Count(raw, []byte(hashField)); n != 1 {
		return fmt.Errorf("%w: want exactly one receipt_sha256, found %d", ErrReceiptAltered, n)
	}
	i := bytes.Index(raw, []byte(hashField)) + len(hashField)
	end := bytes.IndexByte(raw[i:], '"')
	if end < 0 {
		return fmt.Errorf("%w: receipt_sha256 is not terminated", ErrReceiptAltered)
	}
	want := string(raw[i : i+end])
	if _, err := hex.DecodeString(want); err != nil || len(want) != 2*sha256.Size {
		return fmt.Errorf("%w: receipt_sha256 %q is not 64 hex digits", ErrReceiptAltered, want)
	}
	blanked := make([]byte, 0, len(raw)-len(want))
	blanked = append(append(blanked, raw[:i]...), raw[i+end:]...)
	sum := sha256.Sum256(blanked)
	if got := hex.EncodeToString(sum[:]); got != want {
		return fmt.Errorf("%w: its bytes hash to %s, it claims %s", ErrReceiptAltered, got, want)
	}
	return nil
}

// ReadReceipt reads and decodes the receipt at path and checks its hash;
// hashErr (wrapping ErrReceiptAltered) reports a hash mismatch separately
// from err so that a caller can still look at an altered receipt's rows.
func ReadReceipt(path string) (r *Receipt, hashErr, err error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("batch: reading receipt: %w", err)
	}
	hashErr = VerifyReceiptHash(raw)
	r = new(Receipt)
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(r); err != nil {
		return nil, hashErr, fmt.Errorf("batch: decoding receipt %s: %w", path, err)
	}
	if r.Format != ReceiptFormat {
		return nil, hashErr, fmt.Errorf("batch: %s: format %q, want %q", path, r.Format, ReceiptFormat)
	}
	return r, hashErr, nil
}

// VerifyCSV checks the CSV beside a receipt against the receipt's
// csv_sha256.
func VerifyCSV(receiptPath string, r *Receipt) error {
	b, err := os.ReadFile(CSVPath(receiptPath))
	if err != nil {
		return fmt.Errorf("batch: reading receipt CSV: %w", err)
	}
	sum := sha256.Sum256(b)
	if got := hex.EncodeToString(sum[:]); got != r.Summary.CSVSHA256 {
		return fmt.Errorf("%w: CSV %s hashes to %s, the receipt says %s", ErrReceiptAltered, CSVPath(receiptPath), got, r.Summary.CSVSHA256)
	}
	return nil
}
