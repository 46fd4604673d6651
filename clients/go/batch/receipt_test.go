package batch

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func sampleReceipt() *Receipt {
	return &Receipt{
		Format: ReceiptFormat,
		Vault:  "records",
		Files: []File{
			{Path: "in/a.txt", Vault: "records", Key: "p/a.txt", VersionID: "v1", SizeBytes: 5, SHA256: strings.Repeat("ab", 32),
				RetentionMode: "COMPLIANCE", RetainUntil: "2033-03-01T12:00:00Z", LegalHold: true, CommitTime: "2026-03-01T12:00:00.123456789Z"},
			{Path: `in/"quoted" receipt_sha256.txt`, Vault: "records", Key: `p/"receipt_sha256": "x`, VersionID: "v2", SizeBytes: 0,
				SHA256: strings.Repeat("cd", 32), RetentionMode: "NONE", CommitTime: "2026-03-01T12:00:01Z"},
		},
		Summary: Summary{Files: 2, Bytes: 5, Complete: true, Failures: []Failure{}},
	}
}

func TestReceiptHash(t *testing.T) {
	r := sampleReceipt()
	raw, err := r.Marshal([]byte("csv"))
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyReceiptHash(raw); err != nil {
		t.Fatalf("a fresh receipt does not verify: %v\n%s", err, raw)
	}
	if !bytes.Contains(raw, []byte(`"receipt_sha256": "`+r.Summary.ReceiptSHA256+`"`)) || len(r.Summary.ReceiptSHA256) != 64 {
		t.Errorf("receipt_sha256 %q not in the bytes", r.Summary.ReceiptSHA256)
	}
	// Every single-byte change anywhere is detected.
	for i := range raw {
		altered := bytes.Clone(raw)
		altered[i] ^= 0x01
		if err := VerifyReceiptHash(altered); !errors.Is(err, ErrReceiptAltered) {
			t.Fatalf("flipping a bit of byte %d (%q) went unnoticed: %v", i, raw[i], err)
		}
	}
	for name, altered := range map[string][]byte{
		"truncated":      raw[:len(raw)-10],
		"field repeated": append(bytes.Clone(raw), []byte(`"receipt_sha256": "`)...),
		"field removed":  bytes.Replace(raw, []byte(`"receipt_sha256"`), []byte(`"receipt_sha257"`), 1),
		"byte inserted":  append([]byte(" "), raw...),
	} {
		if err := VerifyReceiptHash(altered); !errors.Is(err, ErrReceiptAltered) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestWriteAndReadReceipt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "batch.json")
	r := sampleReceipt()
	if err := WriteReceipt(path, r); err != nil {
		t.Fatal(err)
	}
	got, hashErr, err := ReadReceipt(path)
	if err != nil || hashErr != nil {
		t.Fatalf("ReadReceipt: %v, %v", hashErr, err)
	}
	if len(got.Files) != 2 || got.Files[1].Key != r.Files[1].Key || got.Summary.ReceiptSHA256 != r.Summary.ReceiptSHA256 {
		t.Errorf("read back %+v", got)
	}
	if err := VerifyCSV(path, got); err != nil {
		t.Errorf("VerifyCSV: %v", err)
	}
	csvBytes, err := os.ReadFile(CSVPath(path))
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(strings.TrimSpace(string(csvBytes)), "\n"); len(lines) != 3 ||
		lines[0] != "path,vault,key,version_id,size_bytes,sha256,retention_mode,retain_until,legal_hold,commit_time" {
		t.Errorf("CSV:\n%s", csvBytes)
	}
	if err := os.WriteFile(CSVPath(path), bytes.Replace(csvBytes, []byte("true"), []byte("fals"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := VerifyCSV(path, got); !errors.Is(err, ErrReceiptAltered) {
		t.Errorf("altered CSV: %v", err)
	}

	raw, _ := os.ReadFile(path)
	if err := os.WriteFile(path, bytes.Replace(raw, []byte(`"size_bytes": 5`), []byte(`"size_bytes": 6`), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	got, hashErr, err = ReadReceipt(path)
	if err != nil || !errors.Is(hashErr, ErrReceiptAltered) || got.Files[0].SizeBytes != 6 {
		t.Errorf("altered receipt: %v, %v, %+v", hashErr, err, got)
	}
}

func TestReceiptPaths(t *testing.T) {
	for in, want := range map[string]string{"r.json": "r.csv", "dir/R.JSON": "dir/R.csv", "receipt": "receipt.csv", "r.txt": "r.txt.csv"} {
		if got := CSVPath(in); got != want {
			t.Errorf("CSVPath(%q) = %q, want %q", in, got, want)
		}
	}
	if got := JournalPath("r.json"); got != "r.json.journal" {
		t.Errorf("JournalPath = %q", got)
	}
}
