package batch

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wormvault/wormvault"
)

func TestParseManifest(t *testing.T) {
	base := filepath.FromSlash("/data/in")
	yes, no := true, false
	tests := []struct {
		name    string
		in      string
		want    []Item
		wantErr string
	}{
		{name: "path only", in: "path\na.txt\nsub/b.bin\n", want: []Item{
			{Path: filepath.Join(base, "a.txt"), Key: "p/a.txt"},
			{Path: filepath.Join(base, "sub/b.bin"), Key: "p/sub/b.bin"},
		}},
		{name: "every column, any order, BOM and CRLF",
			in: "\ufeffcontent_type,legal_hold,key,retention,path\r\ntext/plain,true,k1,compliance:7y,a.txt\r\n,no,k2,governance:2030-01-01T00:00:00Z,/abs/b\r\n",
			want: []Item{
				{Path: filepath.Join(base, "a.txt"), Key: "k1", Retention: "compliance:7y", LegalHold: &yes, ContentType: "text/plain"},
				{Path: "/abs/b", Key: "k2", Retention: "governance:2030-01-01T00:00:00Z", LegalHold: &no},
			}},
		{name: "defaults left empty", in: "path,key,retention,legal_hold,content_type\nx,,,,\n", want: []Item{
			{Path: filepath.Join(base, "x"), Key: "p/x"},
		}},
		{name: "short rows are fine", in: "path,key,retention\nx\n", want: []Item{{Path: filepath.Join(base, "x"), Key: "p/x"}}},
		{name: "quoted commas", in: "path,key\n\"a,b.txt\",\"k,1\"\n", want: []Item{{Path: filepath.Join(base, "a,b.txt"), Key: "k,1"}}},
		{name: "empty", in: "", wantErr: "empty"},
		{name: "no path column", in: "key\nk\n", wantErr: "no path column"},
		{name: "unknown column", in: "path,size\nx,1\n", wantErr: `unknown column "size"`},
		{name: "column twice", in: "path,PATH\nx,y\n", wantErr: "twice"},
		{name: "empty path", in: "path,key\n,k\n", wantErr: "line 2: empty path"},
		{name: "bad retention", in: "path,retention\nx,forever:1d\n", wantErr: "line 2"},
		{name: "bare mode", in: "path,retention\nx,compliance\n", wantErr: "line 2"},
		{name: "bad hold", in: "path,legal_hold\nx,maybe\n", wantErr: "legal_hold"},
		{name: "too many fields", in: "path\nx,y\n", wantErr: "line 2: 2 fields"},
		{name: "duplicate key", in: "path,key\nx,k\ny,k\n", wantErr: `both map to key "k"`},
		{name: "duplicate path", in: "path,key\nx,k1\nx,k2\n", wantErr: "listed twice"},
		{name: "path escapes the base", in: "path\n../x\n", wantErr: "outside"},
		{name: "key with NUL", in: "path,key\nx,\"a\x00b\"\n", wantErr: "NUL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseManifest(strings.NewReader(tt.in), base, "p/")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.EqualFunc(got, tt.want, itemEqual) {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func itemEqual(a, b Item) bool {
	hold := func(p *bool) string {
		if p == nil {
			return "-"
		}
		return map[bool]string{true: "y", false: "n"}[*p]
	}
	return a.Path == b.Path && a.Key == b.Key && a.Retention == b.Retention && a.ContentType == b.ContentType && hold(a.LegalHold) == hold(b.LegalHold)
}

func TestWalk(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{"b.txt", "a/z.bin", "a/y/x.log", "receipt.json"} {
		writeFile(t, filepath.Join(dir, p), p)
	}
	if err := os.Symlink(filepath.Join(dir, "b.txt"), filepath.Join(dir, "link.txt")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "a"), filepath.Join(dir, "linkdir")); err != nil {
		t.Fatal(err)
	}
	got, err := Walk(dir, "pre/", filepath.Join(dir, "receipt.json"))
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, it := range got {
		keys = append(keys, it.Key)
		if want := filepath.Join(dir, filepath.FromSlash(strings.TrimPrefix(it.Key, "pre/"))); it.Path != want {
			t.Errorf("key %s: path %s, want %s", it.Key, it.Path, want)
		}
	}
	want := []string{"pre/a/y/x.log", "pre/a/z.bin", "pre/b.txt", "pre/link.txt"}
	if !slices.Equal(keys, want) {
		t.Errorf("keys %v, want %v (receipt excluded, directory link not followed)", keys, want)
	}
	if _, err := Walk(filepath.Join(dir, "missing"), ""); err == nil {
		t.Error("walking a missing directory succeeded")
	}
}

func TestParseRetention(t *testing.T) {
	anchor := time.Date(2026, 3, 1, 12, 0, 0, 5, time.UTC)
	tests := []struct {
		spec    string
		want    wormvault.Retention
		set     bool
		wantErr bool
	}{
		{spec: "compliance:7y", want: wormvault.Retention{Mode: wormvault.RetentionCompliance, RetainUntil: anchor.AddDate(7, 0, 0)}, set: true},
		{spec: "GOVERNANCE:30d", want: wormvault.Retention{Mode: wormvault.RetentionGovernance, RetainUntil: anchor.AddDate(0, 0, 30)}, set: true},
		{spec: "compliance:2030-01-02T03:04:05+02:00", want: wormvault.Retention{Mode: wormvault.RetentionCompliance, RetainUntil: time.Date(2030, 1, 2, 1, 4, 5, 0, time.UTC)}, set: true},
		{spec: "default"},
		{spec: "compliance", wantErr: true},
		{spec: "compliance:7w", wantErr: true},
		{spec: "forever:7y", wantErr: true},
		{spec: "forever:2030-01-02T03:04:05Z", wantErr: true},
		{spec: "", wantErr: true},
	}
	for _, tt := range tests {
		got, set, err := ParseRetention(tt.spec, anchor)
		if (err != nil) != tt.wantErr || set != tt.set || got.Mode != tt.want.Mode || !got.RetainUntil.Equal(tt.want.RetainUntil) {
			t.Errorf("ParseRetention(%q) = %+v, %v, %v; want %+v, %v, err %v", tt.spec, got, set, err, tt.want, tt.set, tt.wantErr)
		}
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
