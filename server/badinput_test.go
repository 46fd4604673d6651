package server_test

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
	"github.com/wormvault/wormvault/server/servertest"
)

// snapshot renders everything a caller can observe (every vault, every
// version with its metadata) plus the shard files on the drives, so a test
// can assert that a refused call changed nothing.
func snapshot(t testing.TB, c *conn, dataDir string) string {
	t.Helper()
	var b strings.Builder
	vs, err := c.vaults.ListVaults(c.ctx(), &wormvaultv1.ListVaultsRequest{PageSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vs.GetVaults() {
		fmt.Fprintln(&b, protojson.Format(v))
		token := ""
		for {
			l, err := c.archives.ListArchives(c.ctx(), &wormvaultv1.ListArchivesRequest{Vault: v.GetName(), AllVersions: true, PageToken: token})
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range l.GetArchives() {
				fmt.Fprintln(&b, protojson.Format(a))
			}
			if token = l.GetNextPageToken(); token == "" {
				break
			}
		}
	}
	filepath.WalkDir(filepath.Join(dataDir, "drives"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			fmt.Fprintln(&b, strings.TrimPrefix(p, dataDir))
		}
		return nil
	})
	return b.String()
}

func TestBadInput(t *testing.T) {
	s := servertest.Start(t)
	c := dial(t, s)
	c.createVault("bad-input")
	good := c.put("bad-input", "present", []byte("hello"))
	unknownVersion := "01890a5d-ac96-774b-bcce-b302099a8057"

	header := func(h *wormvaultv1.ArchiveHeader) *wormvaultv1.UploadArchiveRequest {
		return &wormvaultv1.UploadArchiveRequest{Data: &wormvaultv1.UploadArchiveRequest_Header{Header: h}}
	}
	chunk := func(b []byte) *wormvaultv1.UploadArchiveRequest {
		return &wormvaultv1.UploadArchiveRequest{Data: &wormvaultv1.UploadArchiveRequest_Chunk{Chunk: b}}
	}
	// rawUpload sends msgs as they are and returns the final error.
	rawUpload := func(ctx context.Context, msgs ...*wormvaultv1.UploadArchiveRequest) error {
		st, err := c.archives.UploadArchive(ctx)
		if err != nil {
			return err
		}
		for _, m := range msgs {
			if st.Send(m) != nil {
				break
			}
		}
		_, err = st.CloseAndRecv()
		return err
	}
	longKey := strings.Repeat("k", 1025)
	wrongSHA := bytes.Repeat([]byte{1}, 32)

	cases := []struct {
		name   string
		call   func(ctx context.Context) error
		code   codes.Code
		reason string
		field  string
	}{
		{"create vault: short name", func(ctx context.Context) error {
			_, err := c.vaults.CreateVault(ctx, &wormvaultv1.CreateVaultRequest{Name: "ab"})
			return err
		}, codes.InvalidArgument, "", "name"},
		{"create vault: uppercase", func(ctx context.Context) error {
			_, err := c.vaults.CreateVault(ctx, &wormvaultv1.CreateVaultRequest{Name: "Bad-Name"})
			return err
		}, codes.InvalidArgument, "", "name"},
		{"create vault: ends with hyphen", func(ctx context.Context) error {
			_, err := c.vaults.CreateVault(ctx, &wormvaultv1.CreateVaultRequest{Name: "abc-"})
			return err
		}, codes.InvalidArgument, "", "name"},
		{"create vault: 64 chars", func(ctx context.Context) error {
			_, err := c.vaults.CreateVault(ctx, &wormvaultv1.CreateVaultRequest{Name: strings.Repeat("a", 64)})
			return err
		}, codes.InvalidArgument, "", "name"},
		{"create vault: exists", func(ctx context.Context) error {
			_, err := c.vaults.CreateVault(ctx, &wormvaultv1.CreateVaultRequest{Name: "bad-input"})
			return err
		}, codes.AlreadyExists, "VAULT_EXISTS", ""},
		{"create vault: bad default retention", func(ctx context.Context) error {
			_, err := c.vaults.CreateVault(ctx, &wormvaultv1.CreateVaultRequest{Name: "other", DefaultRetention: &wormvaultv1.DefaultRetention{Mode: wormvaultv1.RetentionMode_RETENTION_MODE_COMPLIANCE, Days: 1, Years: 1}})
			return err
		}, codes.InvalidArgument, "", "default_retention.years"},
		{"get vault: missing", func(ctx context.Context) error {
			_, err := c.vaults.GetVault(ctx, &wormvaultv1.GetVaultRequest{Name: "missing"})
			return err
		}, codes.NotFound, "VAULT_NOT_FOUND", ""},
		{"get vault: bad name", func(ctx context.Context) error {
			_, err := c.vaults.GetVault(ctx, &wormvaultv1.GetVaultRequest{Name: "x"})
			return err
		}, codes.InvalidArgument, "", "name"},
		{"list vaults: negative page size", func(ctx context.Context) error {
			_, err := c.vaults.ListVaults(ctx, &wormvaultv1.ListVaultsRequest{PageSize: -1})
			return err
		}, codes.InvalidArgument, "", "page_size"},
		{"list vaults: bad page token", func(ctx context.Context) error {
			_, err := c.vaults.ListVaults(ctx, &wormvaultv1.ListVaultsRequest{PageToken: "!!"})
			return err
		}, codes.InvalidArgument, "", "page_token"},
		{"update vault: no mask", func(ctx context.Context) error {
			_, err := c.vaults.UpdateVault(ctx, &wormvaultv1.UpdateVaultRequest{Vault: &wormvaultv1.Vault{Name: "bad-input"}})
			return err
		}, codes.InvalidArgument, "", "update_mask"},
		{"update vault: unknown path", func(ctx context.Context) error {
			_, err := c.vaults.UpdateVault(ctx, &wormvaultv1.UpdateVaultRequest{Vault: &wormvaultv1.Vault{Name: "bad-input"}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"name"}}})
			return err
		}, codes.InvalidArgument, "", "update_mask"},
		{"update vault: missing", func(ctx context.Context) error {
			_, err := c.vaults.UpdateVault(ctx, &wormvaultv1.UpdateVaultRequest{Vault: &wormvaultv1.Vault{Name: "missing"}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"default_retention"}}})
			return err
		}, codes.NotFound, "VAULT_NOT_FOUND", ""},
		{"delete vault: not empty", func(ctx context.Context) error {
			_, err := c.vaults.DeleteVault(ctx, &wormvaultv1.DeleteVaultRequest{Name: "bad-input"})
			return err
		}, codes.FailedPrecondition, "VAULT_NOT_EMPTY", ""},
		{"delete vault: missing", func(ctx context.Context) error {
			_, err := c.vaults.DeleteVault(ctx, &wormvaultv1.DeleteVaultRequest{Name: "missing"})
			return err
		}, codes.NotFound, "VAULT_NOT_FOUND", ""},
		{"upload: missing vault", func(ctx context.Context) error {
			return rawUpload(ctx, header(&wormvaultv1.ArchiveHeader{Vault: "missing", Key: "k"}), chunk([]byte("x")))
		}, codes.NotFound, "VAULT_NOT_FOUND", ""},
		{"upload: bad vault name", func(ctx context.Context) error {
			return rawUpload(ctx, header(&wormvaultv1.ArchiveHeader{Vault: "B", Key: "k"}), chunk([]byte("x")))
		}, codes.InvalidArgument, "", "header.vault"},
		{"upload: empty key", func(ctx context.Context) error {
			return rawUpload(ctx, header(&wormvaultv1.ArchiveHeader{Vault: "bad-input"}), chunk([]byte("x")))
		}, codes.InvalidArgument, "", "header.key"},
		{"upload: key too long", func(ctx context.Context) error {
			return rawUpload(ctx, header(&wormvaultv1.ArchiveHeader{Vault: "bad-input", Key: longKey}), chunk([]byte("x")))
		}, codes.InvalidArgument, "", "header.key"},
		{"upload: key with NUL", func(ctx context.Context) error {
			return rawUpload(ctx, header(&wormvaultv1.ArchiveHeader{Vault: "bad-input", Key: "a\x00b"}), chunk([]byte("x")))
		}, codes.InvalidArgument, "", "header.key"},
		{"upload: chunk before header", func(ctx context.Context) error {
			return rawUpload(ctx, chunk([]byte("x")), header(&wormvaultv1.ArchiveHeader{Vault: "bad-input", Key: "k"}))
		}, codes.InvalidArgument, "", "header"},
		{"upload: two headers", func(ctx context.Context) error {
			h := header(&wormvaultv1.ArchiveHeader{Vault: "bad-input", Key: "two-headers"})
			return rawUpload(ctx, h, chunk([]byte("x")), h)
		}, codes.InvalidArgument, "", "header"},
		{"upload: no messages", func(ctx context.Context) error {
			return rawUpload(ctx)
		}, codes.InvalidArgument, "", "header"},
		{"upload: wrong expected sha256", func(ctx context.Context) error {
			return rawUpload(ctx, header(&wormvaultv1.ArchiveHeader{Vault: "bad-input", Key: "sha", ExpectedSha256: wrongSHA}), chunk([]byte("some bytes")))
		}, codes.InvalidArgument, "CHECKSUM_MISMATCH", ""},
		{"upload: short expected sha256", func(ctx context.Context) error {
			return rawUpload(ctx, header(&wormvaultv1.ArchiveHeader{Vault: "bad-input", Key: "sha", ExpectedSha256: []byte{1, 2}}), chunk([]byte("x")))
		}, codes.InvalidArgument, "", "header.expected_sha256"},
		{"upload: retention in the past", func(ctx context.Context) error {
			return rawUpload(ctx, header(&wormvaultv1.ArchiveHeader{Vault: "bad-input", Key: "r", Retention: &wormvaultv1.Retention{
				Mode: wormvaultv1.RetentionMode_RETENTION_MODE_COMPLIANCE, RetainUntilTime: timestamppbNow(-time.Hour)}}), chunk([]byte("x")))
		}, codes.InvalidArgument, "", "retention.retain_until_time"},
		{"upload: retention without mode", func(ctx context.Context) error {
			return rawUpload(ctx, header(&wormvaultv1.ArchiveHeader{Vault: "bad-input", Key: "r", Retention: &wormvaultv1.Retention{RetainUntilTime: timestamppbNow(time.Hour)}}), chunk([]byte("x")))
		}, codes.InvalidArgument, "", "header.retention.mode"},
		{"upload: metadata too large", func(ctx context.Context) error {
			return rawUpload(ctx, header(&wormvaultv1.ArchiveHeader{Vault: "bad-input", Key: "m", Metadata: map[string]string{"k": strings.Repeat("v", 3000)}}), chunk([]byte("x")))
		}, codes.InvalidArgument, "", "header.metadata"},
		{"upload: chunk over 4 MiB", func(ctx context.Context) error {
			return rawUpload(ctx, header(&wormvaultv1.ArchiveHeader{Vault: "bad-input", Key: "big"}), chunk(make([]byte, 4<<20+1)))
		}, codes.InvalidArgument, "", "chunk"},
		{"upload: message over the gRPC limit", func(ctx context.Context) error {
			return rawUpload(ctx, header(&wormvaultv1.ArchiveHeader{Vault: "bad-input", Key: "huge"}), chunk(make([]byte, 5<<20)))
		}, codes.ResourceExhausted, "", ""},
		{"download: missing vault", func(ctx context.Context) error {
			_, err := c.download(&wormvaultv1.DownloadArchiveRequest{Vault: "missing", Key: "k"}, nil)
			return err
		}, codes.NotFound, "VAULT_NOT_FOUND", ""},
		{"download: missing key", func(ctx context.Context) error {
			_, err := c.download(&wormvaultv1.DownloadArchiveRequest{Vault: "bad-input", Key: "nope"}, nil)
			return err
		}, codes.NotFound, "ARCHIVE_NOT_FOUND", ""},
		{"download: unknown version", func(ctx context.Context) error {
			_, err := c.download(&wormvaultv1.DownloadArchiveRequest{Vault: "bad-input", Key: "present", VersionId: unknownVersion}, nil)
			return err
		}, codes.NotFound, "VERSION_NOT_FOUND", ""},
		{"download: malformed version", func(ctx context.Context) error {
			_, err := c.download(&wormvaultv1.DownloadArchiveRequest{Vault: "bad-input", Key: "present", VersionId: "v1"}, nil)
			return err
		}, codes.InvalidArgument, "", "version_id"},
		{"get archive: bad key", func(ctx context.Context) error {
			_, err := c.archives.GetArchive(ctx, &wormvaultv1.GetArchiveRequest{Vault: "bad-input", Key: ""})
			return err
		}, codes.InvalidArgument, "", "key"},
		{"get archive: unknown version", func(ctx context.Context) error {
			_, err := c.archives.GetArchive(ctx, &wormvaultv1.GetArchiveRequest{Vault: "bad-input", Key: "present", VersionId: unknownVersion})
			return err
		}, codes.NotFound, "VERSION_NOT_FOUND", ""},
		{"list archives: missing vault", func(ctx context.Context) error {
			_, err := c.archives.ListArchives(ctx, &wormvaultv1.ListArchivesRequest{Vault: "missing"})
			return err
		}, codes.NotFound, "VAULT_NOT_FOUND", ""},
		{"list archives: bad token", func(ctx context.Context) error {
			_, err := c.archives.ListArchives(ctx, &wormvaultv1.ListArchivesRequest{Vault: "bad-input", PageToken: "%%%"})
			return err
		}, codes.InvalidArgument, "", "page_token"},
		{"list archives: page size too large", func(ctx context.Context) error {
			_, err := c.archives.ListArchives(ctx, &wormvaultv1.ListArchivesRequest{Vault: "bad-input", PageSize: 1001})
			return err
		}, codes.InvalidArgument, "", "page_size"},
		{"delete archive: unknown version", func(ctx context.Context) error {
			_, err := c.archives.DeleteArchive(ctx, &wormvaultv1.DeleteArchiveRequest{Vault: "bad-input", Key: "present", VersionId: unknownVersion})
			return err
		}, codes.NotFound, "VERSION_NOT_FOUND", ""},
		{"delete archive: missing vault", func(ctx context.Context) error {
			_, err := c.archives.DeleteArchive(ctx, &wormvaultv1.DeleteArchiveRequest{Vault: "missing", Key: "present"})
			return err
		}, codes.NotFound, "VAULT_NOT_FOUND", ""},
		{"delete archive: bad key", func(ctx context.Context) error {
			_, err := c.archives.DeleteArchive(ctx, &wormvaultv1.DeleteArchiveRequest{Vault: "bad-input", Key: longKey})
			return err
		}, codes.InvalidArgument, "", "key"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := snapshot(t, c, s.DataDir)
			err := tc.call(c.ctx())
			if tc.field != "" {
				wantField(t, err, tc.field)
			} else {
				wantStatus(t, err, tc.code, tc.reason)
			}
			if after := snapshot(t, c, s.DataDir); after != before {
				t.Fatalf("refused call changed state:\nbefore:\n%s\nafter:\n%s", before, after)
			}
		})
	}
	if got := c.get("bad-input", "present", good.GetVersionId()); string(got) != "hello" {
		t.Fatalf("the earlier archive reads %q", got)
	}
}

func TestAuthentication(t *testing.T) {
	s := servertest.Start(t)
	c := dial(t, s)
	keyID, _, _ := strings.Cut(s.Token, ".")
	for name, md := range map[string][]string{
		"no token":        nil,
		"wrong secret":    {"authorization", "Bearer " + keyID + ".wrong"},
		"unknown key":     {"authorization", "Bearer WVNOPE.secret"},
		"not bearer":      {"authorization", "Basic " + s.Token},
		"malformed":       {"authorization", "Bearer nodot"},
		"two credentials": {"authorization", "Bearer " + s.Token, "authorization", "Bearer " + s.Token},
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			if md != nil {
				ctx = metadata.AppendToOutgoingContext(ctx, md...)
			}
			before := snapshot(t, c, s.DataDir)
			_, err := c.vaults.CreateVault(ctx, &wormvaultv1.CreateVaultRequest{Name: "sneaky"})
			wantStatus(t, err, codes.Unauthenticated, "UNAUTHENTICATED")
			_, err = c.vaults.ListVaults(ctx, &wormvaultv1.ListVaultsRequest{})
			wantStatus(t, err, codes.Unauthenticated, "UNAUTHENTICATED")
			st, err := c.archives.UploadArchive(ctx)
			if err == nil {
				st.Send(&wormvaultv1.UploadArchiveRequest{Data: &wormvaultv1.UploadArchiveRequest_Header{Header: &wormvaultv1.ArchiveHeader{Vault: "x", Key: "y"}}})
				_, err = st.CloseAndRecv()
			}
			wantStatus(t, err, codes.Unauthenticated, "UNAUTHENTICATED")
			if after := snapshot(t, c, s.DataDir); after != before {
				t.Fatal("unauthenticated call changed state")
			}
		})
	}
}
