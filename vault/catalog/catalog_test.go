package catalog

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/wormvault/wormvault"
	recordv1 "github.com/wormvault/wormvault/proto/wormvault/record/v1"
)

var update = flag.Bool("update", false, "rewrite golden files")

func open(t *testing.T) *Catalog {
	t.Helper()
	c, err := Open(Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func newID(t *testing.T) string {
	t.Helper()
	id, err := wormvault.NewVersionID()
	if err != nil {
		t.Fatal(err)
	}
	return string(id)
}

func TestVersionKeyOrder(t *testing.T) {
	// Versions of one key sort newest first; keys sort in byte order, and
	// a key that is a prefix of another sorts before it.
	a1, a2 := uuid.MustParse(newID(t)), uuid.MustParse(newID(t))
	keys := [][]byte{
		versionKey("v", "a", a2), versionKey("v", "a", a1),
		versionKey("v", "a\x01", a1), versionKey("v", "ab", a1), versionKey("v", "b", a1),
	}
	for i := 1; i < len(keys); i++ {
		if bytes.Compare(keys[i-1], keys[i]) >= 0 {
			t.Errorf("key %d does not sort before key %d", i-1, i)
		}
	}
	for _, k := range keys {
		key, id, ok := splitVersionKey(versionsOfVault("v"), k)
		if !ok || (key != "a" && key != "a\x01" && key != "ab" && key != "b") || (id != a1 && id != a2) {
			t.Errorf("splitVersionKey(%q) = %q, %v, %v", k, key, id, ok)
		}
	}
}

func putVersions(t *testing.T, c *Catalog, vault string, spec []struct {
	key    string
	marker bool
}) []*recordv1.Version {
	t.Helper()
	var out []*recordv1.Version
	err := c.Update(context.Background(), func(tx *Txn) error {
		if err := tx.PutVault(&recordv1.Vault{Name: vault}); err != nil {
			return err
		}
		for _, s := range spec {
			v := &recordv1.Version{Vault: vault, Key: s.key, VersionId: newID(t), DeleteMarker: s.marker}
			out = append(out, v)
			if err := tx.PutVersion(v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// listAll pages through a listing with the given page size.
func listAll(t *testing.T, c *Catalog, q ListQuery) (out []string) {
	t.Helper()
	for pages := 0; ; pages++ {
		if pages > 100 {
			t.Fatal("listing does not end")
		}
		var (
			page []Listed
			next []byte
		)
		if err := c.View(func(tx *Txn) (err error) {
			page, next, err = tx.List(q)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		for _, l := range page {
			s := l.Version.GetKey()
			if l.Version.GetDeleteMarker() {
				s += "(dm)"
			}
			if l.IsLatest {
				s += "*"
			}
			out = append(out, s)
		}
		if next == nil {
			return out
		}
		q.After = next
	}
}

func TestList(t *testing.T) {
	c := open(t)
	type v = struct {
		key    string
		marker bool
	}
	// Written oldest first, so within a key the last written is latest.
	putVersions(t, c, "vlt", []v{
		{"a", false}, {"a", false}, {"b", false}, {"b", true}, {"c", false},
		{"c/1", false}, {"c/2", true}, {"c/2", false}, {"d", false},
	})
	putVersions(t, c, "other", []v{{"a", false}})
	cases := []struct {
		name string
		q    ListQuery
		want string
	}{
		{"latest", ListQuery{Vault: "vlt"}, "[a* c* c/1* c/2* d*]"},
		{"all versions", ListQuery{Vault: "vlt", AllVersions: true}, "[a* a b(dm)* b c* c/1* c/2* c/2(dm) d*]"},
		{"prefix", ListQuery{Vault: "vlt", Prefix: "c/"}, "[c/1* c/2*]"},
		{"prefix all", ListQuery{Vault: "vlt", Prefix: "c/", AllVersions: true}, "[c/1* c/2* c/2(dm)]"},
		{"no match", ListQuery{Vault: "vlt", Prefix: "zz"}, "[]"},
	}
	for _, tc := range cases {
		for _, size := range []int{1, 2, 3, 100} {
			t.Run(fmt.Sprintf("%s/page%d", tc.name, size), func(t *testing.T) {
				q := tc.q
				q.Limit = size
				if got := fmt.Sprint(listAll(t, c, q)); got != tc.want {
					t.Fatalf("got %s, want %s", got, tc.want)
				}
			})
		}
	}
	// A cursor from another listing is refused.
	err := c.View(func(tx *Txn) error {
		_, _, err := tx.List(ListQuery{Vault: "vlt", Limit: 1, After: []byte("ver/other\x00a\x00xxxxxxxxxxxxxxxx")})
		return err
	})
	if !errors.Is(err, wormvault.ErrInvalidArgument) {
		t.Fatalf("foreign cursor: %v", err)
	}
}

func TestVersionLookups(t *testing.T) {
	c := open(t)
	vs := putVersions(t, c, "vlt", []struct {
		key    string
		marker bool
	}{{"k", false}, {"k", true}})
	err := c.View(func(tx *Txn) error {
		latest, err := tx.Version("vlt", "k", "")
		if err != nil || latest.GetVersionId() != vs[1].GetVersionId() {
			t.Errorf("latest = %v, %v", latest, err)
		}
		if _, err := tx.Version("vlt", "nope", ""); !errors.Is(err, wormvault.ErrArchiveNotFound) {
			t.Errorf("missing key: %v", err)
		}
		if _, err := tx.Version("vlt", "k", newID(t)); !errors.Is(err, wormvault.ErrVersionNotFound) {
			t.Errorf("missing version: %v", err)
		}
		if _, err := tx.Vault("nope"); !errors.Is(err, wormvault.ErrVaultNotFound) {
			t.Errorf("missing vault: %v", err)
		}
		vault, key, ok, err := tx.VersionLocation(vs[0].GetVersionId())
		if vault != "vlt" || key != "k" || !ok || err != nil {
			t.Errorf("VersionLocation = %q %q %v %v", vault, key, ok, err)
		}
		has, err := tx.HasVersions("vlt")
		if !has || err != nil {
			t.Errorf("HasVersions = %v %v", has, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Update(context.Background(), func(tx *Txn) error {
		for _, v := range vs {
			if err := tx.DeleteVersion(v); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	c.View(func(tx *Txn) error {
		if has, _ := tx.HasVersions("vlt"); has {
			t.Error("versions remain after deleting them all")
		}
		if _, _, ok, _ := tx.VersionLocation(vs[0].GetVersionId()); ok {
			t.Error("version index remains")
		}
		return nil
	})
}

// goldenVersion is a version record with every field set, fixed forever:
// its encoding is pinned in testdata so a change to record.proto that would
// make old catalogs unreadable fails here.
func goldenVersion() *recordv1.Version {
	t0 := time.Date(2026, 11, 27, 12, 0, 0, 123456789, time.UTC)
	return &recordv1.Version{
		Vault: "golden", Key: "2026/q3/report.pdf", VersionId: "019ac5c2-0d2b-7c3e-8a1b-0123456789ab",
		SizeBytes: 5 << 20, Sha256: bytes.Repeat([]byte{0xab}, 32), TreeSha256: bytes.Repeat([]byte{0xcd}, 32),
		ContentType: "application/pdf", Metadata: map[string]string{"case": "42", "dept": "legal"},
		CreateTime: timestamppb.New(t0),
		Retention:  &recordv1.Retention{Mode: recordv1.RetentionMode_RETENTION_MODE_COMPLIANCE, RetainUntilTime: timestamppb.New(t0.AddDate(7, 0, 0)), FromDefault: true},
		LegalHolds: []*recordv1.LegalHold{{HoldId: "case-42", Reason: "litigation", SetBy: "root", SetTime: timestamppb.New(t0)}},
		ObjectId:   "019ac5c2-0d2b-7c3e-8a1b-0123456789ab",
	}
}

func TestGoldenVersionRecord(t *testing.T) {
	path := filepath.Join("testdata", "version.binpb")
	got, err := proto.MarshalOptions{Deterministic: true}.Marshal(goldenVersion())
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update once to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("the encoding of a version record changed: old catalogs would not read back.\ngot  %x\nwant %x", got, want)
	}
	back := new(recordv1.Version)
	if err := proto.Unmarshal(want, back); err != nil || !proto.Equal(back, goldenVersion()) {
		t.Fatalf("golden record does not decode to the same version: %v", err)
	}
}

// FuzzVersionRecord: whatever decodes as a version record re-encodes to the
// same record, and when it names a valid vault, key and version id, its
// place in the key layout reads back as that key and id — only under its
// own vault's and key's prefixes, never under another vault's.
func FuzzVersionRecord(f *testing.F) {
	b, _ := proto.Marshal(goldenVersion())
	f.Add(b)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		v := new(recordv1.Version)
		if proto.Unmarshal(data, v) != nil {
			return
		}
		// Whatever decodes must re-encode and decode to the same record.
		again, err := proto.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		w := new(recordv1.Version)
		if err := proto.Unmarshal(again, w); err != nil || !proto.Equal(v, w) {
			t.Fatalf("round trip changed the record: %v", err)
		}

		id, err := uuid.Parse(v.GetVersionId())
		if err != nil || wormvault.ValidateVaultName("vault", v.GetVault()) != nil || wormvault.ValidateKey("key", v.GetKey()) != nil {
			return
		}
		k := versionKey(v.GetVault(), v.GetKey(), id)
		if !bytes.HasPrefix(k, versionsOfKey(v.GetVault(), v.GetKey())) {
			t.Fatalf("version key %q is outside its key's prefix", k)
		}
		key, gotID, ok := splitVersionKey(versionsOfVault(v.GetVault()), k)
		if !ok || key != v.GetKey() || gotID != id {
			t.Fatalf("version key %q splits to %q, %v, %v; want %q, %v", k, key, gotID, ok, v.GetKey(), id)
		}
		// A vault whose name extends this one's does not see the version.
		if _, _, ok := splitVersionKey(versionsOfVault(v.GetVault()+"0"), k); ok {
			t.Fatalf("version key %q splits under vault %q", k, v.GetVault()+"0")
		}
	})
}
