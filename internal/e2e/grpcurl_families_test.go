package e2e

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	_ "github.com/wormvault/wormvault/proto/wormvault/v1" // registers the API's services
	"github.com/wormvault/wormvault/server/servertest"
)

// grpcurlFamilies are the runnable blocks of the README's "grpcurl for
// every service", in README order, each with outputs it must print: a
// created name, a state reached, the reason of a refusal the block expects.
var grpcurlFamilies = []struct {
	block string
	// devTLS: the block talks TLS to a server started with --dev-tls, as
	// the README tells its reader to restart make run's.
	devTLS bool
	want   []string
}{
	{"grpcurl-vaults", false, []string{
		`"name": "grpc-vaults"`, `"mode": "RETENTION_MODE_COMPLIANCE"`, `"maxRetention": "315360000s"`,
		`\"sid\": \"auditors-read\"`,
	}},
	{"grpcurl-archives", false, []string{
		`"key": "notes/hello.txt"`, `"project": "tour"`, `"chunk": "d29ybQ=="`, `"holdId": "case-42"`,
		`"kind": "LEGAL_HOLD"`, `"reason": "LEGAL_HOLD_ACTIVE"`, `"retainUntilTime": "2100-01-01T00:00:00Z"`,
		`"deleteMarker": true`,
	}},
	{"grpcurl-locks", false, []string{
		`"state": "VAULT_LOCK_STATE_IN_PROGRESS"`, `"state": "VAULT_LOCK_STATE_LOCKED"`,
		`"reason": "VAULT_LOCKED"`, `"reason": "POLICY_DENIED"`,
	}},
	{"grpcurl-keys", false, []string{
		`"currentVersion": 2`, `"state": "KEY_STATE_DISABLED"`, `"reason": "KMS_KEY_DISABLED"`,
		`"kmsKey": "grpc-key"`, `"chunk": "aGVsbG8sIHdvcm0K"`, `"state": "KEY_STATE_PENDING_DELETION"`,
	}},
	{"grpcurl-ssec", true, []string{
		`"mode": "ENCRYPTION_MODE_CUSTOMER"`, `"chunk": "aGVsbG8sIHdvcm0K"`, `"field": "x-wormvault-sse-c-key"`,
		`"reason": "SSE_C_KEY_MISMATCH"`,
	}},
	{"grpcurl-accesspoints", false, []string{
		`"name": "grpc-ingest"`, `"127.0.0.1/32"`, `"vault": "grpc-shared"`, `"key": "incoming/hello.txt"`,
		`"reason": "NETWORK_ORIGIN"`,
	}},
	{"grpcurl-identity", false, []string{
		`"name": "grpc-uploader"`, `"principal": "grpc-uploader"`, `"key": "from-uploader.txt"`,
		`"reason": "PERMISSION_DENIED"`, `"otpauthUrl": "otpauth://totp/`, `"name": "root"`,
	}},
	{"grpcurl-audit", false, []string{`"kind": "ROOT_KEY_CREATE"`, `"ok": true`, `"algorithm": "Ed25519"`}},
	{"grpcurl-admin", false, []string{
		`"dataShards": 4`, `"online": true`, `"archivesChecked": "1"`, `"bytesVerified"`,
		`"state": "CLOCK_STATE_TRUSTED"`, `"rewrappedVersions": "1"`, `"oldKeyFile"`, `"chunk": "aGVsbG8sIHdvcm0K"`,
	}},
}

// TestGrpcurlFamilies runs each family block verbatim with the pinned
// grpcurl, the way TestGrpcurlTour runs the tour: each on a fresh server,
// as a reader trying one block, then the plaintext ones in turn on one
// server, as a reader going down the page, which also proves the blocks'
// names do not collide.
func TestGrpcurlFamilies(t *testing.T) {
	tools := t.TempDir()
	buildTools(t, tools)
	blocks := make(map[string]string)
	for _, f := range grpcurlFamilies {
		blocks[f.block] = readmeBlock(t, f.block)
	}
	for _, f := range grpcurlFamilies {
		t.Run(f.block, func(t *testing.T) {
			dir := checkout(t, tools)
			opts := []servertest.Option{servertest.WithDataDir(filepath.Join(dir, "wormvault-data"))}
			if f.devTLS {
				opts = append(opts, servertest.WithDevTLS())
			}
			s := servertest.Start(t, opts...)
			out := runFamily(t, dir, s.Addr, blocks[f.block])
			for _, want := range f.want {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %s:\n%s", want, out)
				}
			}
		})
	}
	t.Run("in-turn-on-one-server", func(t *testing.T) {
		dir := checkout(t, tools)
		s := servertest.Start(t, servertest.WithDataDir(filepath.Join(dir, "wormvault-data")))
		for _, f := range grpcurlFamilies {
			if !f.devTLS {
				runFamily(t, dir, s.Addr, blocks[f.block])
			}
		}
	})
}

// TestGrpcurlCoversEveryRPC holds the README to its promise: every RPC of
// every wormvault.v1 service appears in the "grpcurl for every service"
// section, run by TestGrpcurlFamilies or shown in the block that says why
// it is not run.
func TestGrpcurlCoversEveryRPC(t *testing.T) {
	section := readmeSection(t, "## grpcurl for every service")
	shown := make(map[string]bool)
	for _, m := range regexp.MustCompile(`wormvault\.v1\.(\w+/\w+)`).FindAllStringSubmatch(section, -1) {
		shown[m[1]] = true
	}
	var missing []string
	rpcs := 0
	protoregistry.GlobalFiles.RangeFilesByPackage("wormvault.v1", func(fd protoreflect.FileDescriptor) bool {
		for i := range fd.Services().Len() {
			sd := fd.Services().Get(i)
			for j := range sd.Methods().Len() {
				rpcs++
				rpc := string(sd.Name()) + "/" + string(sd.Methods().Get(j).Name())
				if !shown[rpc] {
					missing = append(missing, rpc)
				}
			}
		}
		return true
	})
	if rpcs == 0 {
		t.Fatal("no wormvault.v1 service is registered: the proto import is missing")
	}
	slices.Sort(missing)
	if len(missing) > 0 {
		t.Errorf("README's grpcurl section shows no call of %d RPCs: %v", len(missing), missing)
	}
}

// checkout is a fresh directory laid out like a checkout after `make tools`
// and `make run`: bin/ from tools, the server's data to be wormvault-data/.
func checkout(t *testing.T, tools string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Symlink(filepath.Join(tools, "bin"), filepath.Join(dir, "bin")); err != nil {
		t.Fatal(err)
	}
	return dir
}

// runFamily runs one block, failing the test with its output when the
// block fails: a call refused, or a refusal other than the one expected.
func runFamily(t *testing.T, dir, addr, block string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	out, err := runBlock(ctx, dir, addr, block)
	if err != nil {
		t.Fatalf("block failed: %v\n%s", err, out)
	}
	return out
}

// readmeSection returns the README from the heading to the next heading of
// the same level.
func readmeSection(t *testing.T, heading string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "\n"+heading+"\n")
	if !ok {
		t.Fatalf("README has no %q section", heading)
	}
	section, _, _ := strings.Cut(rest, "\n## ")
	return section
}
