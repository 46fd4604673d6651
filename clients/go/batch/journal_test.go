package batch

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func entry(path string) journalEntry {
	return journalEntry{File: File{Path: path, Vault: "v1x", Key: "k/" + path, VersionID: "ver-" + path, SizeBytes: 3, SHA256: "ab"}, ModTimeUnixNano: 42}
}

func TestReadJournal(t *testing.T) {
	header := `{"journal":"wormvault batch journal v1","vault":"v1x","started":"2026-03-01T12:00:00.000000005Z"}` + "\n"
	line := func(p string) string {
		return `{"path":"` + p + `","vault":"v1x","key":"k/` + p + `","version_id":"ver-` + p + `","size_bytes":3,"sha256":"ab","retention_mode":"NONE","retain_until":"","legal_hold":false,"commit_time":"","mtime_unix_nano":42}` + "\n"
	}
	full := header + line("a") + line("b")
	tests := []struct {
		name      string
		in        string
		paths     []string
		validLen  int
		wantErr   string
		hasHeader bool
	}{
		{name: "complete", in: full, paths: []string{"a", "b"}, validLen: len(full), hasHeader: true},
		{name: "torn last line", in: full + line("c")[:40], paths: []string{"a", "b"}, validLen: len(full), hasHeader: true},
		{name: "torn right before its newline", in: full + strings.TrimSuffix(line("c"), "\n"), paths: []string{"a", "b"}, validLen: len(full), hasHeader: true},
		{name: "header only", in: header, validLen: len(header), hasHeader: true},
		{name: "torn header", in: header[:20]},
		{name: "empty", in: ""},
		{name: "corrupt middle line", in: header + "{not json\n" + line("a"), wantErr: "line 2"},
		{name: "entry without version", in: header + `{"path":"a","key":"k"}` + "\n", wantErr: "line 2"},
		{name: "not a journal", in: `{"something":"else"}` + "\n", wantErr: "line 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, entries, valid, err := readJournal(strings.NewReader(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if valid != int64(tt.validLen) {
				t.Errorf("valid = %d, want %d", valid, tt.validLen)
			}
			var paths []string
			for _, e := range entries {
				paths = append(paths, e.Path)
			}
			if strings.Join(paths, ",") != strings.Join(tt.paths, ",") {
				t.Errorf("entries %v, want %v", paths, tt.paths)
			}
			if tt.hasHeader && (h.Vault != "v1x" || !h.Started.Equal(time.Date(2026, 3, 1, 12, 0, 0, 5, time.UTC))) {
				t.Errorf("header %+v", h)
			}
		})
	}
}

// TestJournalReopenAfterTornLine checks that appending after a torn line
// starts a clean line, so the journal stays readable.
func TestJournalReopenAfterTornLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.json.journal")
	started := time.Date(2026, 3, 1, 12, 0, 0, 5, time.UTC)
	j, err := createJournal(path, journalHeader{Journal: journalFormat, Vault: "v1x", Started: started})
	if err != nil {
		t.Fatal(err)
	}
	if err := j.append(entry("a")); err != nil {
		t.Fatal(err)
	}
	if err := j.close(); err != nil {
		t.Fatal(err)
	}
	// A kill in the middle of a write leaves half a line.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"path":"b","vault":"v1`)
	f.Close()

	j, h, entries, ok, err := openJournal(path)
	if err != nil || !ok {
		t.Fatalf("openJournal: ok %v, %v", ok, err)
	}
	if !h.Started.Equal(started) || len(entries) != 1 || entries[0].Path != "a" {
		t.Fatalf("header %+v entries %+v", h, entries)
	}
	for _, p := range []string{"b", "c"} {
		if err := j.append(entry(p)); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.close(); err != nil {
		t.Fatal(err)
	}
	_, _, entries, _, err = openJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 3 || entries[1].Path != "b" || entries[2].Path != "c" || entries[2].ModTimeUnixNano != 42 {
		t.Errorf("after reopening: %+v", entries)
	}

	if _, err := createJournal(path, journalHeader{Journal: journalFormat}); err == nil {
		t.Error("createJournal over an existing journal succeeded")
	}
	if _, _, _, ok, err := openJournal(filepath.Join(t.TempDir(), "none")); ok || err != nil {
		t.Errorf("openJournal of a missing file: ok %v, %v", ok, err)
	}
}
