package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/wormvault/wormvault/server/servertest"
)

// skipSDKSmokeEnv lets a developer who runs `go test` without the Makefile,
// on a machine without the SDKs' dependencies, skip the SDK smoke tests.
// `make test` never sets it: it installs the dependencies first (make
// sdk-deps), so a missing dependency there is a broken setup and must fail.
const skipSDKSmokeEnv = "WORMVAULT_SKIP_SDK_SMOKE"

// sdkPython is the interpreter the Python smoke test runs under: Debian's,
// whose python3-grpcio and python3-protobuf match the protoc that generated
// clients/python/gen. WORMVAULT_SDK_PYTHON overrides it.
func sdkPython() string {
	if p := os.Getenv("WORMVAULT_SDK_PYTHON"); p != "" {
		return p
	}
	return "/usr/bin/python3"
}

// sdkSmoke is one generated SDK's smoke test: a program run from the
// module root against a live server, and a check that what it needs is
// installed.
type sdkSmoke struct {
	name  string
	ready func(root string) error
	args  []string
}

func sdkSmokes() []sdkSmoke {
	python := sdkPython()
	return []sdkSmoke{
		{
			name: "python",
			ready: func(string) error {
				if out, err := exec.Command(python, "-c", "import grpc, google.protobuf").CombinedOutput(); err != nil {
					return fmt.Errorf("%s cannot import grpc and google.protobuf (Debian's python3-grpcio, python3-protobuf): %v\n%s", python, err, out)
				}
				return nil
			},
			args: []string{python, "clients/python/smoke_test.py"},
		},
		{
			name: "typescript",
			ready: func(root string) error {
				if _, err := exec.LookPath("node"); err != nil {
					return fmt.Errorf("node is not on PATH: %w", err)
				}
				if _, err := os.Stat(filepath.Join(root, "clients/typescript/node_modules/@connectrpc/connect-node/package.json")); err != nil {
					return fmt.Errorf("clients/typescript/node_modules is not installed: %w", err)
				}
				return nil
			},
			args: []string{"node", "clients/typescript/smoke.test.mjs"},
		},
	}
}

// TestSDKSmoke runs each generated SDK's smoke test (create a vault, upload
// a few hundred KiB in chunks, download and compare, set and read back a
// legal hold) against a real server on loopback.
func TestSDKSmoke(t *testing.T) {
	if os.Getenv(skipSDKSmokeEnv) == "1" {
		t.Skipf("%s=1", skipSDKSmokeEnv)
	}
	root := repoRoot(t)
	s := servertest.Start(t)
	for _, sdk := range sdkSmokes() {
		t.Run(sdk.name, func(t *testing.T) {
			t.Parallel()
			if err := sdk.ready(root); err != nil {
				t.Fatalf("%v\nrun `make sdk-deps` to install the SDKs' dependencies (or set %s=1 to skip)", err, skipSDKSmokeEnv)
			}
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, sdk.args[0], sdk.args[1:]...)
			cmd.Dir = root
			// No __pycache__ left in clients/python/gen by a test run.
			cmd.Env = append(os.Environ(), "WORMVAULT_SERVER="+s.Addr, "WORMVAULT_TOKEN="+s.Token, "PYTHONDONTWRITEBYTECODE=1")
			cmd.WaitDelay = 5 * time.Second
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%v: %v\n%s", sdk.args, err, out)
			}
			t.Logf("%v:\n%s", sdk.args, out)
		})
	}
}
