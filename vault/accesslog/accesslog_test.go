package accesslog

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// goldenRecords cover every field, an anonymous denial and characters that
// JSON must escape.
func goldenRecords() []Record {
	t0 := time.Date(2026, 3, 1, 12, 30, 45, 123456789, time.UTC)
	return []Record{
		{
			Time: t0, RequestID: "0123456789abcdef", Principal: "root", RemoteAddr: "127.0.0.1:51234", TLS: true,
			RPC: "/wormvault.v1.ArchiveService/UploadArchive", Vault: "records", Key: "2026/invoice <1>.pdf",
			VersionID: "0195f3c4-1d2e-7a3b-8c4d-5e6f708192a3", Status: "OK", BytesIn: 4150, BytesOut: 310,
			Duration: 2345678 * time.Nanosecond, UserAgent: "wormvault-cli/1.0 grpc-go/1.79.0",
		},
		{
			Time: t0.Add(time.Second), RequestID: "fedcba9876543210", RemoteAddr: "[::1]:40000",
			RPC: "/wormvault.v1.ArchiveService/GetArchive", Vault: "records", Key: "a\"quoted\"\nkey",
			Status: "UNAUTHENTICATED", Reason: "UNAUTHENTICATED", BytesIn: 20, Duration: 120 * time.Microsecond,
		},
		{
			Time: time.Date(2026, 3, 1, 13, 0, 0, 0, time.FixedZone("CET", 3600)), RequestID: "00000000000000ff", Principal: "auditor",
			RemoteAddr: "10.0.0.7:1234", RPC: "/wormvault.v1.ArchiveService/DeleteArchive", Vault: "records", Key: "k",
			VersionID: "0195f3c4-1d2e-7a3b-8c4d-5e6f708192a4", Status: "PERMISSION_DENIED", Reason: "POLICY_DENIED", BytesIn: 60,
			Duration: 3 * time.Millisecond,
		},
		{
			Time: t0.Add(time.Minute), RequestID: "0000000000000abc", Principal: "uploader", RemoteAddr: "127.0.0.1:40001",
			RPC: "/wormvault.v1.ArchiveService/UploadArchive", Vault: "records", Key: "payroll/03.csv",
			Status: "PERMISSION_DENIED", Reason: "NETWORK_ORIGIN", BytesIn: 48, Duration: 500 * time.Microsecond,
			AccessPoint: "payroll",
		},
	}
}

// TestGolden pins the JSON lines format: field names, order and encodings
// are a published format that engines read directly.
func TestGolden(t *testing.T) {
	var got []byte
	for _, r := range goldenRecords() {
		var err error
		if got, err = Append(got, r); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join("testdata", "records.jsonl")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("encoding changed:\ngot\n%s\nwant\n%s", got, want)
	}
	// And every golden line reads back to the record (time in UTC,
	// duration to the microsecond).
	lines := strings.Split(strings.TrimSuffix(string(want), "\n"), "\n")
	for i, r := range goldenRecords() {
		back, err := Parse([]byte(lines[i]))
		if err != nil {
			t.Fatalf("line %d: %v", i, err)
		}
		r.Time = r.Time.UTC()
		r.Duration = r.Duration.Truncate(time.Microsecond)
		if back != r {
			t.Fatalf("line %d reads back as\n%+v\nwant\n%+v", i, back, r)
		}
	}
}

func TestParseRejects(t *testing.T) {
	for name, line := range map[string]string{
		"not json":    `hello`,
		"no time":     `{"rpc":"/x","status":"OK"}`,
		"bad time":    `{"time":"yesterday","rpc":"/x","status":"OK"}`,
		"no rpc":      `{"time":"2026-03-01T12:00:00Z","status":"OK"}`,
		"no status":   `{"time":"2026-03-01T12:00:00Z","rpc":"/x"}`,
		"wrong types": `{"time":"2026-03-01T12:00:00Z","rpc":"/x","status":"OK","tls":"yes"}`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := Parse([]byte(line)); err == nil {
				t.Fatalf("%s parsed", line)
			}
		})
	}
	// Fields added by a newer server are ignored.
	if _, err := Parse([]byte(`{"time":"2026-03-01T12:00:00Z","rpc":"/x","status":"OK","new_field":1}`)); err != nil {
		t.Fatalf("unknown field: %v", err)
	}
}

func TestObjectName(t *testing.T) {
	first := time.Date(2026, 3, 1, 23, 59, 58, 999, time.FixedZone("X", -2*3600))
	id := BatchID("records", 42, first)
	if len(id) != 16 {
		t.Fatalf("batch id %q: want 16 hex digits", id)
	}
	if got, want := ObjectName("logs/records/", first, id), "logs/records/2026/03/02/01-59-58-"+id+".jsonl"; got != want {
		t.Fatalf("ObjectName = %q, want %q (dated in UTC)", got, want)
	}
	// The id is a function of the batch's identity, nothing else: a retry
	// finds the same name; another source, first record or time does not.
	if BatchID("records", 42, first) != id {
		t.Fatal("batch id is not deterministic")
	}
	for _, other := range []string{
		BatchID("records2", 42, first), BatchID("records", 43, first), BatchID("records", 42, first.Add(time.Nanosecond)),
	} {
		if other == id {
			t.Fatalf("distinct batches share the id %s", id)
		}
	}
}

func FuzzParse(f *testing.F) {
	want, err := os.ReadFile(filepath.Join("testdata", "records.jsonl"))
	if err != nil {
		f.Fatal(err)
	}
	for _, l := range bytes.Split(want, []byte("\n")) {
		f.Add(l)
	}
	f.Add([]byte(`{"time":"2026-03-01T12:00:00Z","rpc":"/x","status":"OK","duration_ms":1e308}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := Parse(b)
		if err != nil {
			return
		}
		// What parses encodes, and reads back to the same record.
		line, err := Append(nil, r)
		if err != nil {
			t.Fatal(err)
		}
		back, err := Parse(line)
		if err != nil {
			t.Fatalf("re-encoded line %q does not parse: %v", line, err)
		}
		if !back.Time.Equal(r.Time) || back.RPC != r.RPC || back.Status != r.Status || back.Key != r.Key {
			t.Fatalf("round trip changed the record: %+v -> %+v", r, back)
		}
	})
}
