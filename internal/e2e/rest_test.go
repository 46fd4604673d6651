package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wormvault/wormvault/server"
	"github.com/wormvault/wormvault/server/servertest"
)

// TestRESTTour runs the README's curl tour verbatim with the real curl
// against a server whose HTTP listener stands in for make run's
// 127.0.0.1:7421, then checks what each call answered.
func TestRESTTour(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Fatalf("the REST tour runs the README's curl lines with curl, which is not on PATH (Debian: apt-get install curl): %v", err)
	}
	block := readmeBlock(t, "rest-tour")
	dir := t.TempDir()
	s := servertest.Start(t, servertest.WithDataDir(filepath.Join(dir, "wormvault-data")),
		servertest.WithConfig(func(c *server.Config) { c.HTTPListen = "127.0.0.1:0" }))
	// -x shows which line failed.
	cmd := exec.Command("bash", "-euxo", "pipefail", "-c", strings.ReplaceAll(block, "127.0.0.1:7421", s.HTTPAddr()))
	cmd.Dir = dir
	cmd.Env = os.Environ()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("tour failed: %v\n%s", err, out)
	}
	for _, want := range []string{
		`"name":"web-tour"`,       // CreateVault, ListVaults
		`"key":"notes/hello.txt"`, // the PUT upload, GetArchive, ListArchives
		`"legalHold":true`,        // legal_hold=true at upload
		"hello, worm\n",           // ?alt=media
		"\nworm\n",                // ?alt=media, bytes 7-
		`"kind":"LEGAL_HOLD"`,     // ExplainProtection
		`"legalHold":false`,       // SetLegalHold released it
		`"allowedOrigins":["https://app.example.com"]`,              // UpdateVault cors
		"Access-Control-Allow-Origin: https://app.example.com",      // the allowed preflight
		"Access-Control-Allow-Headers: authorization, content-type", // and its headers
		"HTTP/1.1 403 Forbidden",                                    // the preflight from http://
		`"kind":"VAULT_CREATE"`,                                     // ListAuditEvents
		"\n401\n",                                                   // no key
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("tour output lacks %q:\n%s", want, out)
		}
	}
	// The refused preflight got no CORS headers.
	if i := strings.Index(string(out), "HTTP/1.1 403 Forbidden"); i >= 0 {
		refused, _, _ := strings.Cut(string(out[i:]), "CORS preflight refused")
		if strings.Contains(refused, "Access-Control-") {
			t.Errorf("the refused preflight carries CORS headers:\n%s", refused)
		}
	}
}
