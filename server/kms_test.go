package server_test

// Acceptance tests of the built-in KMS (KeyService) and of KMS encryption
// at rest, through the real server.

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
	"github.com/wormvault/wormvault/server"
	"github.com/wormvault/wormvault/server/servertest"
)

func (c *conn) keys() wormvaultv1.KeyServiceClient { return wormvaultv1.NewKeyServiceClient(c.cc) }

func (c *conn) createKey(name string) *wormvaultv1.Key {
	c.t.Helper()
	resp, err := c.keys().CreateKey(c.ctx(), &wormvaultv1.CreateKeyRequest{Name: name, Description: "test key " + name})
	if err != nil {
		c.t.Fatalf("CreateKey %s: %v", name, err)
	}
	return resp.GetKey()
}

func (c *conn) getKey(name string) *wormvaultv1.Key {
	c.t.Helper()
	resp, err := c.keys().GetKey(c.ctx(), &wormvaultv1.GetKeyRequest{Name: name})
	if err != nil {
		c.t.Fatalf("GetKey %s: %v", name, err)
	}
	return resp.GetKey()
}

func kmsHeader(vault, key, kmsKey string) *wormvaultv1.ArchiveHeader {
	return &wormvaultv1.ArchiveHeader{Vault: vault, Key: key, Encryption: &wormvaultv1.EncryptionInfo{Mode: wormvaultv1.EncryptionMode_ENCRYPTION_MODE_KMS, KmsKey: kmsKey}}
}

// putKMS uploads data encrypted under kmsKey.
func (c *conn) putKMS(vault, key, kmsKey string, data []byte) *wormvaultv1.Archive {
	c.t.Helper()
	a, err := c.upload(kmsHeader(vault, key, kmsKey), bytes.NewReader(data), 1<<20)
	if err != nil {
		c.t.Fatalf("upload %s/%s under %s: %v", vault, key, kmsKey, err)
	}
	if e := a.GetEncryption(); e.GetMode() != wormvaultv1.EncryptionMode_ENCRYPTION_MODE_KMS || e.GetKmsKey() != kmsKey {
		c.t.Fatalf("upload %s/%s reports encryption %v, want KMS %s", vault, key, e, kmsKey)
	}
	return a
}

// auditOf returns the trail's events of one kind.
func auditOf(t *testing.T, c *conn, kind string) []*wormvaultv1.AuditEvent {
	t.Helper()
	return listAudit(t, c, &wormvaultv1.ListAuditEventsRequest{Kind: kind, PageSize: 1000})
}

// grepDataDir fails the test if any file under dir holds marker.
func grepDataDir(t *testing.T, dir string, marker []byte) {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		n++
		if bytes.Contains(b, marker) {
			t.Errorf("%s holds plaintext", p)
		}
		return nil
	})
	if err != nil || n == 0 {
		t.Fatalf("walked %d files under %s: %v", n, dir, err)
	}
}

// wantKeyError asserts a KMS refusal: code, reason, and a message naming
// the key (and, when not empty, a version).
func wantKeyError(t *testing.T, err error, code codes.Code, reason, key, version string) {
	t.Helper()
	wantStatus(t, err, code, reason)
	if msg := status.Convert(err).Message(); !strings.Contains(msg, `"`+key+`"`) || !strings.Contains(msg, version) {
		t.Fatalf("%v does not name key %q and version %q", err, key, version)
	}
}

// TestKMSEncryptionAtRest: KMS-encrypted archives of every size, inline
// (the default threshold) and sharded, read back bit-exact, whole and in
// ranges across 64 KiB package boundaries; the trail holds one
// KMS_GENERATE_DATA_KEY per upload and one KMS_DECRYPT per download, each
// naming who, which key version and which archive version; no file under
// the data directory holds the plaintext.
func TestKMSEncryptionAtRest(t *testing.T) {
	for _, tc := range []struct {
		name   string
		inline int
	}{{"inline default", server.DefaultConfig().Vault.InlineThreshold}, {"erasure only", 0}} {
		t.Run(tc.name, func(t *testing.T) {
			s := servertest.Start(t, servertest.WithConfig(func(cfg *server.Config) { cfg.Vault.InlineThreshold = tc.inline }))
			c := dial(t, s)
			c.createKey("archive-key")
			c.createVault("enc")
			const K = 64 << 10
			data := map[string][]byte{}
			versions := map[string]string{}
			for i, size := range []int{0, 1, K - 1, K, K + 1, 10 << 20} {
				key := fmt.Sprintf("size-%d", size)
				data[key] = markedBytes(uint64(300+i), size)
				versions[key] = c.putKMS("enc", key, "archive-key", data[key]).GetVersionId()
			}
			downloads := 0
			for key, want := range data {
				if got := c.get("enc", key, ""); !bytes.Equal(got, want) {
					t.Fatalf("%s: downloaded %d bytes that differ from the %d uploaded", key, len(got), len(want))
				}
				downloads++
				for _, r := range [][2]int64{{K - 5, 10}, {K, K}, {2*K - 1, 3*K + 2}, {int64(len(want)) - 1, 1}} {
					off, n := r[0], r[1]
					if off < 0 || off+n > int64(len(want)) {
						continue
					}
					var buf bytes.Buffer
					if _, err := c.download(&wormvaultv1.DownloadArchiveRequest{Vault: "enc", Key: key, Offset: off, Length: n}, &buf); err != nil {
						t.Fatalf("%s [%d,+%d): %v", key, off, n, err)
					}
					downloads++
					if !bytes.Equal(buf.Bytes(), want[off:off+n]) {
						t.Fatalf("%s [%d,+%d): wrong bytes", key, off, n)
					}
				}
			}
			if a := c.archive("enc", "size-1", ""); a.GetEncryption().GetKmsKey() != "archive-key" {
				t.Fatalf("GetArchive reports encryption %v", a.GetEncryption())
			}
			gens := auditOf(t, c, "KMS_GENERATE_DATA_KEY")
			if len(gens) != len(data) {
				t.Fatalf("%d KMS_GENERATE_DATA_KEY events for %d uploads", len(gens), len(data))
			}
			for _, ev := range gens {
				if ev.GetPrincipal() != "root" || ev.GetVault() != "enc" || versions[ev.GetKey()] != ev.GetVersionId() ||
					ev.GetDetails()["kms_key"] != "archive-key" || ev.GetDetails()["kms_key_version"] != "1" {
					t.Fatalf("event %v", ev)
				}
			}
			decs := auditOf(t, c, "KMS_DECRYPT")
			if len(decs) != downloads {
				t.Fatalf("%d KMS_DECRYPT events for %d downloads", len(decs), downloads)
			}
			for _, ev := range decs {
				if ev.GetPrincipal() != "root" || versions[ev.GetKey()] != ev.GetVersionId() || ev.GetDetails()["kms_key"] != "archive-key" {
					t.Fatalf("event %v", ev)
				}
			}
			s.Stop()
			grepDataDir(t, s.DataDir, serverMarker)
		})
	}
}

// TestKMSQuota: over a key's request quota, uploads and downloads under it
// fail with RESOURCE_EXHAUSTED and a retry delay, store nothing, and leave
// other keys alone.
func TestKMSQuota(t *testing.T) {
	s := servertest.Start(t, servertest.WithConfig(func(cfg *server.Config) {
		cfg.Vault.KMSRequestsPerSecond = 0.001 // one request, then one per 1000 s
	}))
	c := dial(t, s)
	c.createKey("tight-key")
	c.createKey("other-key")
	c.createVault("quota")
	c.putKMS("quota", "first", "tight-key", []byte("first"))
	exhausted := func(err error) {
		t.Helper()
		wantStatus(t, err, codes.ResourceExhausted, "KMS_QUOTA_EXCEEDED")
		for _, d := range status.Convert(err).Details() {
			if ri, ok := d.(*errdetails.RetryInfo); ok && ri.GetRetryDelay().AsDuration() > time.Minute {
				return
			}
		}
		t.Fatalf("no retry delay in %v", err)
	}
	refused(t, c, s, codes.ResourceExhausted, "KMS_QUOTA_EXCEEDED", "", func() error {
		_, err := c.upload(kmsHeader("quota", "second", "tight-key"), strings.NewReader("second"), 1024)
		exhausted(err)
		return err
	})
	_, err := c.download(&wormvaultv1.DownloadArchiveRequest{Vault: "quota", Key: "first"}, &bytes.Buffer{})
	exhausted(err)
	c.putKMS("quota", "other", "other-key", []byte("other"))
}

// TestKMSDisableEnable: a disabled key blocks reads and uploads with
// FAILED_PRECONDITION naming the key; enabling it restores them.
func TestKMSDisableEnable(t *testing.T) {
	s := servertest.Start(t)
	c := dial(t, s)
	c.createKey("switch-key")
	c.createVault("toggle")
	data := markedBytes(7, 300<<10)
	c.putKMS("toggle", "doc", "switch-key", data)
	resp, err := c.keys().DisableKey(c.ctx(), &wormvaultv1.DisableKeyRequest{Name: "switch-key"})
	if err != nil || resp.GetKey().GetState() != wormvaultv1.KeyState_KEY_STATE_DISABLED || resp.GetKey().GetDisableUntil() != nil {
		t.Fatalf("DisableKey: %v %v", resp, err)
	}
	_, err = c.download(&wormvaultv1.DownloadArchiveRequest{Vault: "toggle", Key: "doc"}, &bytes.Buffer{})
	wantKeyError(t, err, codes.FailedPrecondition, "KMS_KEY_DISABLED", "switch-key", "")
	_, err = c.download(&wormvaultv1.DownloadArchiveRequest{Vault: "toggle", Key: "doc", Offset: 70000, Length: 10}, &bytes.Buffer{})
	wantKeyError(t, err, codes.FailedPrecondition, "KMS_KEY_DISABLED", "switch-key", "")
	_, err = c.upload(kmsHeader("toggle", "new", "switch-key"), strings.NewReader("new"), 1024)
	wantKeyError(t, err, codes.FailedPrecondition, "KMS_KEY_DISABLED", "switch-key", "")
	if a := c.archive("toggle", "doc", ""); a.GetSizeBytes() != int64(len(data)) {
		t.Fatalf("metadata while disabled: %v", a)
	}
	if _, err := c.keys().EnableKey(c.ctx(), &wormvaultv1.EnableKeyRequest{Name: "switch-key"}); err != nil {
		t.Fatal(err)
	}
	if got := c.get("toggle", "doc", ""); !bytes.Equal(got, data) {
		t.Fatal("read after enabling differs")
	}
	c.putKMS("toggle", "new", "switch-key", []byte("new"))
	if n := len(auditOf(t, c, "KMS_KEY_DISABLE")); n != 1 {
		t.Fatalf("%d KMS_KEY_DISABLE events", n)
	}
}

// TestKMSRotation: after a rotation new uploads use the new version and
// archives of the old one still read.
func TestKMSRotation(t *testing.T) {
	s := servertest.Start(t)
	c := dial(t, s)
	c.createKey("rolling-key")
	c.createVault("rot")
	old := markedBytes(8, 200<<10)
	a1 := c.putKMS("rot", "old", "rolling-key", old)
	resp, err := c.keys().RotateKey(c.ctx(), &wormvaultv1.RotateKeyRequest{Name: "rolling-key"})
	if err != nil || resp.GetKey().GetCurrentVersion() != 2 || resp.GetKey().GetVersionCount() != 2 {
		t.Fatalf("RotateKey: %v %v", resp, err)
	}
	a2 := c.putKMS("rot", "new", "rolling-key", []byte("after the rotation"))
	if got := c.get("rot", "old", ""); !bytes.Equal(got, old) {
		t.Fatal("an archive of the old version no longer reads")
	}
	if got := c.get("rot", "new", ""); string(got) != "after the rotation" {
		t.Fatalf("new archive: %q", got)
	}
	want := map[string]string{a1.GetVersionId(): "1", a2.GetVersionId(): "2"}
	seen := map[string]map[string]bool{}
	for _, kind := range []string{"KMS_GENERATE_DATA_KEY", "KMS_DECRYPT"} {
		seen[kind] = map[string]bool{}
		for _, ev := range auditOf(t, c, kind) {
			if want[ev.GetVersionId()] != ev.GetDetails()["kms_key_version"] {
				t.Fatalf("%s: %s used key version %s", kind, ev.GetVersionId(), ev.GetDetails()["kms_key_version"])
			}
			seen[kind][ev.GetVersionId()] = true
		}
		// Each archive was written and read once at least.
		if len(seen[kind]) != len(want) {
			t.Fatalf("%s events name %d of the %d archives", kind, len(seen[kind]), len(want))
		}
	}
}

// TestKMSDeletionAndWORM: while a version under a key is under retention
// the key can neither be scheduled for deletion nor disabled for long (the
// refusal names the version); once the retention ends the deletion is
// scheduled, the key stops working at once and is deleted when its window
// ends, after which its archives fail FAILED_PRECONDITION for good.
func TestKMSDeletionAndWORM(t *testing.T) {
	fc := newFakeClock()
	s, c := startWithClock(t, fc)
	c.createKey("shred-key")
	c.createVault("worm")
	locked := c.putKMS("worm", "locked", "shred-key", []byte("kept"))
	if _, err := c.setRetention("worm", "locked", locked.GetVersionId(), retention(comp, fc.now().Add(3*day)), false); err != nil {
		t.Fatal(err)
	}
	c.putKMS("worm", "loose", "shred-key", []byte("no retention"))
	name := "worm/locked@" + locked.GetVersionId()
	keyState := func() string { return protojson.Format(c.getKey("shred-key")) }
	before := keyState()
	for _, call := range []func() error{
		func() error {
			_, err := c.keys().ScheduleKeyDeletion(c.ctx(), &wormvaultv1.ScheduleKeyDeletionRequest{Name: "shred-key", PendingDays: 7})
			return err
		},
		func() error {
			_, err := c.keys().DisableKey(c.ctx(), &wormvaultv1.DisableKeyRequest{Name: "shred-key"})
			return err
		},
		func() error {
			_, err := c.keys().DisableKey(c.ctx(), &wormvaultv1.DisableKeyRequest{Name: "shred-key", DisableDays: 31})
			return err
		},
	} {
		wantKeyError(t, call(), codes.FailedPrecondition, "KMS_KEY_PROTECTS_LOCKED_VERSIONS", "shred-key", name)
	}
	if keyState() != before {
		t.Fatal("a refused call changed the key")
	}

	fc.advance(3*day + time.Second)
	resp, err := c.keys().ScheduleKeyDeletion(c.ctx(), &wormvaultv1.ScheduleKeyDeletionRequest{Name: "shred-key", PendingDays: 7})
	if err != nil || resp.GetKey().GetState() != wormvaultv1.KeyState_KEY_STATE_PENDING_DELETION || !resp.GetKey().GetDeletionTime().AsTime().Equal(fc.now().Add(7*day)) {
		t.Fatalf("ScheduleKeyDeletion: %v %v", resp, err)
	}
	_, err = c.download(&wormvaultv1.DownloadArchiveRequest{Vault: "worm", Key: "loose"}, &bytes.Buffer{})
	wantKeyError(t, err, codes.FailedPrecondition, "KMS_KEY_PENDING_DELETION", "shred-key", "")
	// Cancelling brings it back; scheduling again starts a new window.
	if _, err := c.keys().CancelKeyDeletion(c.ctx(), &wormvaultv1.CancelKeyDeletionRequest{Name: "shred-key"}); err != nil {
		t.Fatal(err)
	}
	if got := c.get("worm", "loose", ""); string(got) != "no retention" {
		t.Fatalf("after cancel: %q", got)
	}
	if _, err := c.keys().ScheduleKeyDeletion(c.ctx(), &wormvaultv1.ScheduleKeyDeletionRequest{Name: "shred-key", PendingDays: 7}); err != nil {
		t.Fatal(err)
	}

	fc.advance(7 * day)
	if k := c.getKey("shred-key"); k.GetState() != wormvaultv1.KeyState_KEY_STATE_DELETED {
		t.Fatalf("after the window: %v", k)
	}
	for _, key := range []string{"locked", "loose"} {
		_, err := c.download(&wormvaultv1.DownloadArchiveRequest{Vault: "worm", Key: key}, &bytes.Buffer{})
		wantKeyError(t, err, codes.FailedPrecondition, "KMS_KEY_DELETED", "shred-key", "")
	}
	if n := len(auditOf(t, c, "KMS_KEY_DELETED")); n != 1 {
		t.Fatalf("%d KMS_KEY_DELETED events", n)
	}
	_, err = c.keys().CreateKey(c.ctx(), &wormvaultv1.CreateKeyRequest{Name: "shred-key"})
	wantStatus(t, err, codes.AlreadyExists, "KMS_KEY_EXISTS")
	_ = s
}

// TestKMSRequestEncryptionPolicy: policies decide on the encryption an
// upload asked for, before the vault default applies: a vault policy that
// denies uploads not asking for KMS denies a default upload (even in a
// vault whose default is KMS) and allows a KMS upload.
func TestKMSRequestEncryptionPolicy(t *testing.T) {
	s := servertest.Start(t)
	c := dial(t, s)
	c.createKey("policy-key")
	if _, err := c.vaults.CreateVault(c.ctx(), &wormvaultv1.CreateVaultRequest{Name: "kms-only",
		DefaultEncryption: &wormvaultv1.EncryptionInfo{Mode: wormvaultv1.EncryptionMode_ENCRYPTION_MODE_KMS, KmsKey: "policy-key"}}); err != nil {
		t.Fatal(err)
	}
	c.createVault("svc-default")
	for _, v := range []string{"kms-only", "svc-default"} {
		mustOK(t, c.setAccessPolicy(v, `{"statements":[{"sid":"require-kms","effect":"DENY","principals":["*"],"actions":["wormvault:UploadArchive"],"resources":["*"],"condition":"request.encryption != \"KMS\""}]}`), "policy")
		for _, h := range []*wormvaultv1.ArchiveHeader{
			{Vault: v, Key: "default"},
			{Vault: v, Key: "service", Encryption: &wormvaultv1.EncryptionInfo{Mode: wormvaultv1.EncryptionMode_ENCRYPTION_MODE_SERVICE}},
		} {
			refused(t, c, s, codes.PermissionDenied, "POLICY_DENIED", "", func() error {
				_, err := c.upload(h, strings.NewReader("x"), 1024)
				return err
			})
		}
		c.putKMS(v, "asked", "policy-key", []byte("asked for KMS"))
	}
	vr, err := c.vaults.GetVault(c.ctx(), &wormvaultv1.GetVaultRequest{Name: "kms-only"})
	if err != nil || vr.GetVault().GetDefaultEncryption().GetKmsKey() != "policy-key" {
		t.Fatalf("GetVault: %v %v", vr, err)
	}
	// Without the policy the default applies.
	mustOK(t, c.deleteAccessPolicy("kms-only"), "delete policy")
	a := c.put("kms-only", "by-default", []byte("default"))
	if a.GetEncryption().GetKmsKey() != "policy-key" {
		t.Fatalf("default upload: %v", a.GetEncryption())
	}
}

// TestKMSAuthorization: KeyService calls are identity-policy actions;
// using a key needs only the archive action.
func TestKMSAuthorization(t *testing.T) {
	s := servertest.Start(t)
	root := dial(t, s)
	root.createKey("team-key")
	root.createVault("team")
	user := newPrincipal(t, root, "writer", `{"statements":[{"sid":"w","effect":"ALLOW","principals":["writer"],
		"actions":["wormvault:UploadArchive","wormvault:DownloadArchive","wormvault:GetKey"],"resources":["*"]}]}`)
	if _, err := user.keys().GetKey(user.ctx(), &wormvaultv1.GetKeyRequest{Name: "team-key"}); err != nil {
		t.Fatal(err)
	}
	for _, call := range []func() error{
		func() error {
			_, err := user.keys().CreateKey(user.ctx(), &wormvaultv1.CreateKeyRequest{Name: "mine"})
			return err
		},
		func() error {
			_, err := user.keys().DisableKey(user.ctx(), &wormvaultv1.DisableKeyRequest{Name: "team-key"})
			return err
		},
		func() error {
			_, err := user.keys().ListKeys(user.ctx(), &wormvaultv1.ListKeysRequest{})
			return err
		},
	} {
		wantStatus(t, call(), codes.PermissionDenied, "PERMISSION_DENIED")
	}
	user.putKMS("team", "doc", "team-key", []byte("team data"))
	if got := user.get("team", "doc", ""); string(got) != "team data" {
		t.Fatalf("%q", got)
	}
	evs := auditOf(t, root, "KMS_DECRYPT")
	if len(evs) != 1 || evs[0].GetPrincipal() != "writer" {
		t.Fatalf("decrypt events %v", evs)
	}
}

// TestKMSBadInput: every malformed KeyService call and encryption header
// is INVALID_ARGUMENT naming the field (or the precise status), and
// changes nothing.
func TestKMSBadInput(t *testing.T) {
	s := servertest.Start(t)
	c := dial(t, s)
	c.createKey("good-key")
	c.createVault("bad-kms")
	k := c.keys()
	type tc struct {
		name          string
		code          codes.Code
		reason, field string
		call          func() error
	}
	kmsMode := wormvaultv1.EncryptionMode_ENCRYPTION_MODE_KMS
	upload := func(e *wormvaultv1.EncryptionInfo) func() error {
		return func() error {
			_, err := c.upload(&wormvaultv1.ArchiveHeader{Vault: "bad-kms", Key: "k", Encryption: e}, strings.NewReader("data"), 1024)
			return err
		}
	}
	invalid := func(name, field string, call func() error) tc {
		return tc{name, codes.InvalidArgument, "INVALID_ARGUMENT", field, call}
	}
	cases := []tc{
		invalid("create: short name", "name", func() error {
			_, err := k.CreateKey(c.ctx(), &wormvaultv1.CreateKeyRequest{Name: "ab"})
			return err
		}),
		invalid("create: upper case", "name", func() error {
			_, err := k.CreateKey(c.ctx(), &wormvaultv1.CreateKeyRequest{Name: "Bad-Key"})
			return err
		}),
		invalid("create: slash", "name", func() error {
			_, err := k.CreateKey(c.ctx(), &wormvaultv1.CreateKeyRequest{Name: "bad/key"})
			return err
		}),
		invalid("create: long description", "description", func() error {
			_, err := k.CreateKey(c.ctx(), &wormvaultv1.CreateKeyRequest{Name: "fine-key", Description: strings.Repeat("d", 1025)})
			return err
		}),
		{"create: exists", codes.AlreadyExists, "KMS_KEY_EXISTS", "", func() error {
			_, err := k.CreateKey(c.ctx(), &wormvaultv1.CreateKeyRequest{Name: "good-key"})
			return err
		}},
		invalid("get: empty name", "name", func() error {
			_, err := k.GetKey(c.ctx(), &wormvaultv1.GetKeyRequest{})
			return err
		}),
		{"get: unknown", codes.NotFound, "KMS_KEY_NOT_FOUND", "", func() error {
			_, err := k.GetKey(c.ctx(), &wormvaultv1.GetKeyRequest{Name: "no-such-key"})
			return err
		}},
		invalid("list: negative page size", "page_size", func() error {
			_, err := k.ListKeys(c.ctx(), &wormvaultv1.ListKeysRequest{PageSize: -1})
			return err
		}),
		invalid("list: page size too large", "page_size", func() error {
			_, err := k.ListKeys(c.ctx(), &wormvaultv1.ListKeysRequest{PageSize: 1001})
			return err
		}),
		invalid("list: forged token", "page_token", func() error {
			_, err := k.ListKeys(c.ctx(), &wormvaultv1.ListKeysRequest{PageToken: "!!"})
			return err
		}),
		invalid("disable: negative days", "disable_days", func() error {
			_, err := k.DisableKey(c.ctx(), &wormvaultv1.DisableKeyRequest{Name: "good-key", DisableDays: -1})
			return err
		}),
		invalid("disable: beyond 100 years", "disable_days", func() error {
			_, err := k.DisableKey(c.ctx(), &wormvaultv1.DisableKeyRequest{Name: "good-key", DisableDays: 36501})
			return err
		}),
		{"disable: unknown", codes.NotFound, "KMS_KEY_NOT_FOUND", "", func() error {
			_, err := k.DisableKey(c.ctx(), &wormvaultv1.DisableKeyRequest{Name: "no-such-key"})
			return err
		}},
		invalid("enable: bad name", "name", func() error {
			_, err := k.EnableKey(c.ctx(), &wormvaultv1.EnableKeyRequest{Name: "x"})
			return err
		}),
		invalid("rotate: bad name", "name", func() error {
			_, err := k.RotateKey(c.ctx(), &wormvaultv1.RotateKeyRequest{Name: "-lead"})
			return err
		}),
		invalid("schedule: 0 days", "pending_days", func() error {
			_, err := k.ScheduleKeyDeletion(c.ctx(), &wormvaultv1.ScheduleKeyDeletionRequest{Name: "good-key"})
			return err
		}),
		invalid("schedule: 6 days", "pending_days", func() error {
			_, err := k.ScheduleKeyDeletion(c.ctx(), &wormvaultv1.ScheduleKeyDeletionRequest{Name: "good-key", PendingDays: 6})
			return err
		}),
		invalid("schedule: 31 days", "pending_days", func() error {
			_, err := k.ScheduleKeyDeletion(c.ctx(), &wormvaultv1.ScheduleKeyDeletionRequest{Name: "good-key", PendingDays: 31})
			return err
		}),
		{"cancel: not pending", codes.FailedPrecondition, "FAILED_PRECONDITION", "", func() error {
			_, err := k.CancelKeyDeletion(c.ctx(), &wormvaultv1.CancelKeyDeletionRequest{Name: "good-key"})
			return err
		}},
		invalid("upload: KMS without a key", "header.encryption.kms_key", upload(&wormvaultv1.EncryptionInfo{Mode: kmsMode})),
		invalid("upload: KMS with a bad key name", "header.encryption.kms_key", upload(&wormvaultv1.EncryptionInfo{Mode: kmsMode, KmsKey: "Bad"})),
		invalid("upload: SERVICE with a key", "header.encryption.kms_key", upload(&wormvaultv1.EncryptionInfo{Mode: wormvaultv1.EncryptionMode_ENCRYPTION_MODE_SERVICE, KmsKey: "good-key"})),
		invalid("upload: default with a key", "header.encryption.kms_key", upload(&wormvaultv1.EncryptionInfo{KmsKey: "good-key"})),
		invalid("upload: NONE not allowed", "header.encryption.mode", upload(&wormvaultv1.EncryptionInfo{Mode: wormvaultv1.EncryptionMode_ENCRYPTION_MODE_NONE})),
		invalid("upload: unknown mode", "header.encryption.mode", upload(&wormvaultv1.EncryptionInfo{Mode: 42})),
		{"upload: unknown key", codes.NotFound, "KMS_KEY_NOT_FOUND", "", upload(&wormvaultv1.EncryptionInfo{Mode: kmsMode, KmsKey: "no-such-key"})},
		{"create vault: unknown default key", codes.NotFound, "KMS_KEY_NOT_FOUND", "", func() error {
			_, err := c.vaults.CreateVault(c.ctx(), &wormvaultv1.CreateVaultRequest{Name: "new-vault", DefaultEncryption: &wormvaultv1.EncryptionInfo{Mode: kmsMode, KmsKey: "no-such-key"}})
			return err
		}},
		invalid("create vault: NONE default", "default_encryption.mode", func() error {
			_, err := c.vaults.CreateVault(c.ctx(), &wormvaultv1.CreateVaultRequest{Name: "new-vault", DefaultEncryption: &wormvaultv1.EncryptionInfo{Mode: wormvaultv1.EncryptionMode_ENCRYPTION_MODE_NONE}})
			return err
		}),
		invalid("update vault: KMS default without a key", "vault.default_encryption.kms_key", func() error {
			_, err := c.vaults.UpdateVault(c.ctx(), &wormvaultv1.UpdateVaultRequest{
				Vault:      &wormvaultv1.Vault{Name: "bad-kms", DefaultEncryption: &wormvaultv1.EncryptionInfo{Mode: kmsMode}},
				UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"default_encryption"}},
			})
			return err
		}),
	}
	keysBefore, err := k.ListKeys(c.ctx(), &wormvaultv1.ListKeysRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			refused(t, c, s, tc.code, tc.reason, tc.field, tc.call)
		})
	}
	keysAfter, err := k.ListKeys(c.ctx(), &wormvaultv1.ListKeysRequest{})
	if err != nil || protojson.Format(keysAfter) != protojson.Format(keysBefore) {
		t.Fatalf("refused calls changed the keys:\n%v\n%v", keysBefore, keysAfter)
	}
	if msg := status.Convert(upload(&wormvaultv1.EncryptionInfo{Mode: kmsMode, KmsKey: "no-such-key"})()).Message(); !strings.Contains(msg, "header.encryption.kms_key") {
		t.Fatalf("unknown key: %s does not name the field", msg)
	}
}

// TestKMSListKeys pages through keys in name order.
func TestKMSListKeys(t *testing.T) {
	s := servertest.Start(t)
	c := dial(t, s)
	for _, n := range []string{"key-c", "key-a", "key-b"} {
		c.createKey(n)
	}
	var names []string
	token := ""
	for {
		resp, err := c.keys().ListKeys(c.ctx(), &wormvaultv1.ListKeysRequest{PageSize: 2, PageToken: token})
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range resp.GetKeys() {
			names = append(names, k.GetName())
			if k.GetState() != wormvaultv1.KeyState_KEY_STATE_ENABLED || k.GetCurrentVersion() != 1 || k.GetCreateTime() == nil {
				t.Fatalf("key %v", k)
			}
		}
		if token = resp.GetNextPageToken(); token == "" {
			break
		}
	}
	if strings.Join(names, ",") != "key-a,key-b,key-c" {
		t.Fatalf("listed %v", names)
	}
	if n := len(auditOf(t, c, "KMS_KEY_CREATE")); n != 3 {
		t.Fatalf("%d KMS_KEY_CREATE events", n)
	}
}
