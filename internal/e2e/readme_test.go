package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wormvault/wormvault/server/servertest"
)

// repoRoot is the module root, two levels up from this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found at %s", root)
	}
	return root
}

// readmeBlock returns the shell block between <!-- name --> and <!-- /name -->.
func readmeBlock(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile("(?s)<!-- " + regexp.QuoteMeta(name) + " -->\\s*```sh\\n(.*?)```\\s*<!-- /" + regexp.QuoteMeta(name) + " -->")
	m := re.FindSubmatch(b)
	if m == nil {
		t.Fatalf("README has no %s block", name)
	}
	return string(m[1])
}

// buildTools builds bin/wormvault and bin/tools/grpcurl into dir the way the
// Makefile does (grpcurl pinned by tools/go.mod), returning dir's bin path.
func buildTools(t *testing.T, dir string) {
	t.Helper()
	root := repoRoot(t)
	for _, b := range []struct{ args []string }{
		{[]string{"build", "-o", filepath.Join(dir, "bin", "wormvault"), "./cmd/wormvault"}},
		{[]string{"-C", "tools", "build", "-o", filepath.Join(dir, "bin", "tools", "grpcurl"), "github.com/fullstorydev/grpcurl/cmd/grpcurl"}},
	} {
		cmd := exec.Command("go", b.args...)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %v: %v\n%s", b.args, err, out)
		}
	}
}

// runTour runs a README block with bash in a fresh directory laid out like a
// checkout after `make run`: wormvault-data/ is the live server's data. The
// only change to the text is the server address, since a test cannot own
// port 7420; `make ...` lines are done by buildTools beforehand.
func runTour(t *testing.T, block string) string {
	t.Helper()
	dir := t.TempDir()
	buildTools(t, dir)
	s := servertest.Start(t, servertest.WithDataDir(filepath.Join(dir, "wormvault-data")))
	out, err := runBlock(t.Context(), dir, s.Addr, block)
	if err != nil {
		t.Fatalf("tour failed: %v\n%s", err, out)
	}
	return out
}

// runBlock runs a README block with bash -euo pipefail in dir, where
// bin/ holds the tools and wormvault-data/ is the data directory of the
// server at addr, returning stdout and stderr together. The one change to
// the text: addr replaces make run's 127.0.0.1:7420; `make ...` lines are
// dropped, their work done beforehand.
func runBlock(ctx context.Context, dir, addr, block string) (string, error) {
	var script []string
	for _, line := range strings.Split(block, "\n") {
		if strings.HasPrefix(line, "make ") {
			continue
		}
		script = append(script, strings.ReplaceAll(line, "127.0.0.1:7420", addr))
	}
	// The trap names the failing line without echoing every command (-x
	// would mix the requests into the output the tests search).
	trap := `trap 'echo "README block failed at: $BASH_COMMAND" >&2' ERR`
	cmd := exec.CommandContext(ctx, "bash", "-euo", "pipefail", "-c", trap+"\n"+strings.Join(script, "\n"))
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "WORMVAULT_SERVER="+addr, "WORMVAULT_TOKEN=")
	cmd.WaitDelay = 10 * time.Second // a grpcurl left running when ctx ends must not hold the output open
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestCLITour(t *testing.T) {
	out := runTour(t, readmeBlock(t, "cli-tour"))
	for _, want := range []string{"bit-exact", "records", "2026/q3/report.bin", "2026/q3/contract.pdf"} {
		if !strings.Contains(out, want) {
			t.Errorf("tour output lacks %q:\n%s", want, out)
		}
	}
}

func TestGrpcurlTour(t *testing.T) {
	out := runTour(t, readmeBlock(t, "grpcurl-tour"))
	for _, want := range []string{"wormvault.v1.ArchiveService", `"name": "grpc-tour"`, `"key": "hello.txt"`, `"chunk": "aGVsbG8sIHdvcm0K"`, `"status": "SERVING"`} {
		if !strings.Contains(out, want) {
			t.Errorf("tour output lacks %q:\n%s", want, out)
		}
	}
}
