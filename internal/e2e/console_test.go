package e2e

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wormvault/wormvault/server"
	"github.com/wormvault/wormvault/server/servertest"
)

// consoleArtifacts is where TestConsoleBrowser leaves its screenshots (and
// the uploaded and downloaded files), under the module root; gitignored.
const consoleArtifacts = "test-artifacts/console"

// TestConsoleBrowser runs the console's acceptance script
// (clients/web/e2e/console.e2e.mjs) in headless Chromium against a real
// server whose HTTP listener serves the console embedded in this binary:
// sign in, create a vault, upload with GOVERNANCE retention, see the
// retain-until, a refused delete with its reason, a legal hold, and a
// bit-exact download, with a screenshot of each step.
//
// Missing Chromium or node_modules fail the test, naming `make web-deps`:
// a skipped browser test would let the console break unseen. Only
// WORMVAULT_SKIP_BROWSER_TEST=1 skips it (make test never sets it).
func TestConsoleBrowser(t *testing.T) {
	if os.Getenv("WORMVAULT_SKIP_BROWSER_TEST") == "1" {
		t.Skip("WORMVAULT_SKIP_BROWSER_TEST=1")
	}
	root := repoRoot(t)
	web := filepath.Join(root, "clients", "web")
	chromium := os.Getenv("WORMVAULT_CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("the console browser test needs node on PATH: %v (run `make web-deps`)", err)
	}
	if _, err := os.Stat(chromium); err != nil {
		t.Fatalf("the console browser test needs Debian's chromium at %s: %v (run `make web-deps`)", chromium, err)
	}
	if _, err := os.Stat(filepath.Join(web, "node_modules", "playwright-core", "package.json")); err != nil {
		t.Fatalf("the console browser test needs clients/web/node_modules (playwright-core): %v (run `make web-deps`)", err)
	}

	s := servertest.Start(t, servertest.WithConfig(func(c *server.Config) { c.HTTPListen = "127.0.0.1:0" }))
	artifacts := filepath.Join(root, consoleArtifacts)
	if err := os.RemoveAll(artifacts); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join("e2e", "console.e2e.mjs"))
	cmd.Dir = web
	cmd.Env = append(os.Environ(),
		"WORMVAULT_CONSOLE_URL=http://"+s.HTTPAddr()+"/console/",
		"WORMVAULT_TOKEN="+s.Token,
		"WORMVAULT_ARTIFACTS="+artifacts,
		"WORMVAULT_CHROMIUM="+chromium,
	)
	// Chromium's helpers may hold the output pipes a moment after node
	// exits; do not wait on them forever.
	cmd.WaitDelay = 10 * time.Second
	out, err := cmd.CombinedOutput()
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatalf("the console browser script timed out:\n%s", out)
	}
	if err != nil {
		t.Fatalf("the console browser script failed: %v\n%s\nscreenshots so far: %s", err, out, artifacts)
	}
	if !strings.Contains(string(out), " passed, 0 failed") {
		t.Fatalf("the console browser script ended without its summary:\n%s", out)
	}
	t.Logf("%s", out)
	t.Logf("screenshots: %s", artifacts)
}
