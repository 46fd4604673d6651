package wormvault_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportRules is the architecture's import policy as a test (see
// ARCHITECTURE.md): lower layers never import upper ones, and heavy
// dependencies stay in the one package that owns them.
func TestImportRules(t *testing.T) {
	const mod = "github.com/wormvault/wormvault"
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	imports := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		imports[f[0]] = f[1:]
	}
	if len(imports) < 5 {
		t.Fatalf("go list found only %d packages", len(imports))
	}
	within := func(pkg, dir string) bool {
		p := mod + "/" + dir
		return pkg == p || strings.HasPrefix(pkg, p+"/")
	}
	type rule struct {
		name    string
		applies func(pkg string) bool
		bans    func(imp string) bool
	}
	ours := func(imp string) bool { return strings.HasPrefix(imp, mod+"/") }
	rules := []rule{
		{"root package is light: none of ours, no grpc, no badger", func(p string) bool { return p == mod },
			func(i string) bool { return ours(i) || strings.Contains(i, "grpc") || strings.Contains(i, "badger") }},
		{"lock imports nothing of ours but the root vocabulary", func(p string) bool { return within(p, "lock") },
			func(i string) bool { return ours(i) && !within(i, "lock") }},
		{"erasure imports nothing of ours but the root vocabulary", func(p string) bool { return within(p, "erasure") },
			func(i string) bool { return ours(i) && !within(i, "erasure") }},
		{"vault never imports server, the API protos or grpc", func(p string) bool { return within(p, "vault") },
			func(i string) bool {
				return within(i, "server") || within(i, "proto/wormvault/v1") || strings.HasPrefix(i, "google.golang.org/grpc")
			}},
		// vault/sse is the documented package format, pure crypto with no
		// storage: client-side encryption in the SDK must write exactly it.
		// Clients may import receipt (top level, light) to verify receipts.
		{"clients never import server or vault (but the vault/sse format)", func(p string) bool { return within(p, "clients") },
			func(i string) bool { return within(i, "server") || (within(i, "vault") && !within(i, "vault/sse")) }},
		{"vault/sse stays pure: nothing of ours but the root vocabulary", func(p string) bool { return within(p, "vault/sse") },
			func(i string) bool { return ours(i) && i != mod && !within(i, "vault/sse") }},
		// receipt is the signed-receipt format that offline verifiers
		// (the SDK, the CLI, auditors' tools) share with the server.
		{"receipt is light: nothing of ours but the root vocabulary, no grpc", func(p string) bool { return within(p, "receipt") },
			func(i string) bool {
				return (ours(i) && i != mod && !within(i, "receipt")) || strings.Contains(i, "grpc")
			}},
		// cors is S3's CORS rules, validated by vault and applied by server.
		{"cors is pure: nothing of ours but the root vocabulary", func(p string) bool { return within(p, "cors") },
			func(i string) bool { return ours(i) && i != mod && !within(i, "cors") }},
		{"badger only in vault/catalog", func(p string) bool { return !within(p, "vault/catalog") },
			func(i string) bool { return strings.HasPrefix(i, "github.com/dgraph-io/badger") }},
		{"reedsolomon only in erasure", func(p string) bool { return !within(p, "erasure") },
			func(i string) bool { return strings.HasPrefix(i, "github.com/klauspost/reedsolomon") }},
		// The benchmark and soak drivers are clients of a server process.
		{"grpc only in server, clients, cmd (and the benchmark and soak drivers, clients)", func(p string) bool {
			return !within(p, "server") && !within(p, "clients") && !within(p, "cmd") && !within(p, "proto") && !within(p, "internal/benchreport") && !within(p, "internal/soak")
		}, func(i string) bool { return strings.HasPrefix(i, "google.golang.org/grpc") }},
	}
	for pkg, imps := range imports {
		for _, r := range rules {
			if !r.applies(pkg) {
				continue
			}
			for _, imp := range imps {
				if r.bans(imp) {
					t.Errorf("%s imports %s: breaks rule %q", pkg, imp, r.name)
				}
			}
		}
	}
}
