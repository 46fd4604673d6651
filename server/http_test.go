package server_test

// The HTTP listener through a real server on loopback and net/http: REST
// routes, Connect and gRPC-Web on the same port, the archive bytes routes,
// authentication and the peer the interceptors see, CORS preflights and
// the security headers.

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
	"github.com/wormvault/wormvault/server"
	"github.com/wormvault/wormvault/server/servertest"
)

// httpClient talks to a test server's HTTP listener.
type httpClient struct {
	t     *testing.T
	base  string // http://127.0.0.1:port
	token string
	c     *http.Client
}

// startHTTP starts a server with its HTTP listener on a loopback port.
func startHTTP(t *testing.T, opts ...servertest.Option) (*servertest.Server, *httpClient) {
	t.Helper()
	opts = append([]servertest.Option{servertest.WithConfig(func(c *server.Config) { c.HTTPListen = "127.0.0.1:0" })}, opts...)
	s := servertest.Start(t, opts...)
	c := &httpClient{t: t, base: "http://" + s.HTTPAddr(), token: s.Token, c: &http.Client{Timeout: 30 * time.Second}}
	t.Cleanup(c.c.CloseIdleConnections)
	return s, c
}

// httpResult is a response with its body read.
type httpResult struct {
	*http.Response
	body []byte
}

func (r httpResult) String() string { return fmt.Sprintf("%s: %s", r.Status, r.body) }

// do sends a request; headers are name, value pairs. A body of type string
// or []byte is sent as is.
func (c *httpClient) do(method, path string, body any, headers ...string) httpResult {
	c.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		c.t.Fatalf("body of type %T", body)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := c.c.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("%s %s: reading the body: %v", method, path, err)
	}
	return httpResult{resp, b}
}

// auth sends a request with the root bearer key.
func (c *httpClient) auth(method, path string, body any, headers ...string) httpResult {
	c.t.Helper()
	return c.do(method, path, body, append([]string{"Authorization", "Bearer " + c.token}, headers...)...)
}

// ok fails unless r is 200 and returns its JSON body decoded.
func (c *httpClient) ok(r httpResult) map[string]any {
	c.t.Helper()
	if r.StatusCode != http.StatusOK {
		c.t.Fatalf("%s %s: %s", r.Request.Method, r.Request.URL.Path, r)
	}
	var m map[string]any
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(r.body, &m); err != nil {
			c.t.Fatalf("%s %s: %v in %s", r.Request.Method, r.Request.URL.Path, err, r.body)
		}
	}
	return m
}

// wantError fails unless r is a REST error with the HTTP code and, when
// reason is set, that ErrorInfo reason.
func wantError(t *testing.T, r httpResult, code int, reason string) {
	t.Helper()
	if r.StatusCode != code {
		t.Fatalf("%s %s: got %s, want %d", r.Request.Method, r.Request.URL.Path, r, code)
	}
	if reason != "" && !strings.Contains(string(r.body), `"reason":"`+reason+`"`) && !strings.Contains(string(r.body), `"reason": "`+reason+`"`) {
		t.Fatalf("%s %s: error lacks reason %s: %s", r.Request.Method, r.Request.URL.Path, reason, r.body)
	}
}

func wantSecurityHeaders(t *testing.T, r httpResult) {
	t.Helper()
	if got := r.Header.Get("Content-Security-Policy"); !strings.Contains(got, "default-src") || !strings.Contains(got, "frame-ancestors 'none'") {
		t.Errorf("%s %s: Content-Security-Policy %q", r.Request.Method, r.Request.URL.Path, got)
	}
	if r.Header.Get("X-Content-Type-Options") != "nosniff" || r.Header.Get("Referrer-Policy") != "no-referrer" {
		t.Errorf("%s %s: security headers missing: %v", r.Request.Method, r.Request.URL.Path, r.Header)
	}
}

func TestHTTPRESTVaults(t *testing.T) {
	_, c := startHTTP(t)
	created := c.ok(c.auth("POST", "/v1/vaults", `{"name": "rest-vaults", "default_retention": {"mode": "RETENTION_MODE_GOVERNANCE", "days": 3}}`))
	if v := created["vault"].(map[string]any); v["name"] != "rest-vaults" {
		t.Fatalf("created %v", created)
	}
	r := c.auth("GET", "/v1/vaults/rest-vaults", nil)
	got := c.ok(r)
	wantSecurityHeaders(t, r)
	if d := got["vault"].(map[string]any)["defaultRetention"].(map[string]any); d["days"] != 3.0 {
		t.Fatalf("GetVault: %s", r.body)
	}
	list := c.ok(c.auth("GET", "/v1/vaults?page_size=10", nil))
	if vs := list["vaults"].([]any); len(vs) != 1 {
		t.Fatalf("ListVaults: %v", list)
	}
	// UpdateVault: PATCH with the field mask in the body.
	c.ok(c.auth("PATCH", "/v1/vaults/rest-vaults", `{"vault": {"mfa_delete": false, "default_retention": {"mode": "RETENTION_MODE_GOVERNANCE", "days": 5}}, "update_mask": "defaultRetention"}`))
	got = c.ok(c.auth("GET", "/v1/vaults/rest-vaults", nil))
	if d := got["vault"].(map[string]any)["defaultRetention"].(map[string]any); d["days"] != 5.0 {
		t.Fatalf("after PATCH: %v", got)
	}
	wantError(t, c.auth("GET", "/v1/vaults/rest-missing", nil), http.StatusNotFound, "VAULT_NOT_FOUND")
	wantError(t, c.auth("POST", "/v1/vaults", `{"name": "Bad Name"}`), http.StatusBadRequest, "INVALID_ARGUMENT")
	wantError(t, c.auth("POST", "/v1/vaults", `{"name": "rest-vaults"}`), http.StatusConflict, "")
	c.ok(c.auth("DELETE", "/v1/vaults/rest-vaults", nil))
	wantError(t, c.auth("GET", "/v1/vaults/rest-vaults", nil), http.StatusNotFound, "VAULT_NOT_FOUND")
	// A route that does not exist, and a method a route does not take.
	if r := c.auth("GET", "/v1/nothing", nil); r.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown route: %s", r)
	}
}

func TestHTTPRESTArchives(t *testing.T) {
	_, c := startHTTP(t)
	c.ok(c.auth("POST", "/v1/vaults", `{"name": "rest-archives"}`))
	data := bytes.Repeat([]byte("0123456789abcdef"), 200_000) // 3.2 MB: several upload chunks
	sum := sha256.Sum256(data)
	const key = "2026/q3/report one.bin"
	const keyPath = "/v1/vaults/rest-archives/archives/2026/q3/report%20one.bin"
	up := c.ok(c.auth("PUT", keyPath+"?expected_sha256="+hex.EncodeToString(sum[:])+"&legal_hold=true", data,
		"Content-Type", "application/x-report", "X-Wormvault-Meta-Project", "apollo"))
	a := up["archive"].(map[string]any)
	if a["key"] != key || a["sizeBytes"] != fmt.Sprint(len(data)) || a["contentType"] != "application/x-report" ||
		a["metadata"].(map[string]any)["project"] != "apollo" || a["legalHold"] != true {
		t.Fatalf("upload answered %s", mustJSON(up))
	}
	if up["receipt"] == nil {
		t.Errorf("upload has no receipt: %v", up)
	}
	version := a["versionId"].(string)

	// Metadata, then the bytes.
	meta := c.ok(c.auth("GET", keyPath+"?version_id="+version, nil))
	if meta["archive"].(map[string]any)["versionId"] != version {
		t.Fatalf("GetArchive: %v", meta)
	}
	r := c.auth("GET", keyPath+"?alt=media", nil)
	if r.StatusCode != http.StatusOK || !bytes.Equal(r.body, data) {
		t.Fatalf("download: %s, %d bytes", r.Status, len(r.body))
	}
	for h, want := range map[string]string{
		"Content-Type": "application/x-report", "Content-Length": fmt.Sprint(len(data)), "X-Wormvault-Version-Id": version,
		"X-Wormvault-Sha256": hex.EncodeToString(sum[:]), "Content-Disposition": `attachment; filename="report one.bin"`,
		"Content-Security-Policy": "default-src 'none'; sandbox; frame-ancestors 'none'",
	} {
		if got := r.Header.Get(h); got != want {
			t.Errorf("download header %s = %q, want %q", h, got, want)
		}
	}
	r = c.auth("GET", keyPath+"?alt=media&offset=16&length=5", nil)
	if r.StatusCode != http.StatusOK || string(r.body) != "01234" {
		t.Fatalf("ranged download: %s", r)
	}

	list := c.ok(c.auth("GET", "/v1/vaults/rest-archives/archives?prefix=2026/&all_versions=true", nil))
	if as := list["archives"].([]any); len(as) != 1 {
		t.Fatalf("ListArchives: %v", list)
	}

	// Retention and legal holds are custom methods on the key.
	until := time.Now().Add(48 * time.Hour).UTC().Format(time.RFC3339)
	c.ok(c.auth("PUT", keyPath+":retention", `{"retention": {"mode": "RETENTION_MODE_GOVERNANCE", "retain_until_time": "`+until+`"}}`))
	ret := c.ok(c.auth("GET", keyPath+":retention", nil))
	if ret["retention"].(map[string]any)["mode"] != "RETENTION_MODE_GOVERNANCE" || ret["versionId"] != version {
		t.Fatalf("GetRetention: %v", ret)
	}
	c.ok(c.auth("PUT", keyPath+":legalHold", `{"legal_hold": true, "hold_id": "case-7", "reason": "audit"}`))
	hold := c.ok(c.auth("GET", keyPath+":legalHold", nil))
	if len(hold["holds"].([]any)) != 2 {
		t.Fatalf("GetLegalHold: %v", hold)
	}
	why := c.ok(c.auth("GET", keyPath+":explainProtection", nil))
	if why["deletable"] != false || len(why["protections"].([]any)) < 3 {
		t.Fatalf("ExplainProtection: %v", why)
	}
	// A permanent delete is refused; a plain delete adds a marker.
	wantError(t, c.auth("DELETE", keyPath+"?version_id="+version, nil), http.StatusForbidden, "LEGAL_HOLD_ACTIVE")
	del := c.ok(c.auth("DELETE", keyPath, nil))
	if del["deleteMarker"] != true {
		t.Fatalf("DeleteArchive: %v", del)
	}
	wantError(t, c.auth("GET", keyPath+"?alt=media", nil), http.StatusNotFound, "")
	if r := c.auth("GET", keyPath+"?alt=media&version_id="+version, nil); !bytes.Equal(r.body, data) {
		t.Fatalf("download of the version behind the marker: %s", r.Status)
	}

	// Bad input names its field.
	wantError(t, c.auth("PUT", keyPath+"?retention.mode=FOREVER", "x"), http.StatusBadRequest, "INVALID_ARGUMENT")
	wantError(t, c.auth("PUT", keyPath+"?colour=blue", "x"), http.StatusBadRequest, "INVALID_ARGUMENT")
	wantError(t, c.auth("PUT", keyPath+"?expected_sha256="+strings.Repeat("00", 32), "x"), http.StatusBadRequest, "")
	wantError(t, c.auth("GET", keyPath+"?alt=media&offset=-1&version_id="+version, nil), http.StatusBadRequest, "INVALID_ARGUMENT")
	wantError(t, c.auth("GET", keyPath+"?alt=media&colour=blue", nil), http.StatusBadRequest, "INVALID_ARGUMENT")
	wantError(t, c.auth("PUT", "/v1/vaults/rest-missing/archives/a", "x"), http.StatusNotFound, "VAULT_NOT_FOUND")
}

// TestHTTPUploadCutShort: a PUT whose body ends before its Content-Length
// stores nothing.
func TestHTTPUploadCutShort(t *testing.T) {
	s, c := startHTTP(t)
	c.ok(c.auth("POST", "/v1/vaults", `{"name": "rest-cut"}`))
	conn, err := net.Dial("tcp", s.HTTPAddr())
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "PUT /v1/vaults/rest-cut/archives/partial HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Length: 3000000\r\n\r\n", c.token)
	conn.Write(bytes.Repeat([]byte("a"), 1_500_000))
	conn.(*net.TCPConn).CloseWrite()
	answer, _ := io.ReadAll(conn) // the server answers or closes
	conn.Close()
	if bytes.HasPrefix(answer, []byte("HTTP/1.1 200")) {
		t.Fatalf("a cut upload was acknowledged: %s", answer)
	}
	list := c.ok(c.auth("GET", "/v1/vaults/rest-cut/archives?all_versions=true", nil))
	if as, _ := list["archives"].([]any); len(as) != 0 {
		t.Fatalf("a cut upload was stored: %v", list)
	}
}

func TestHTTPConnectAndGRPCWeb(t *testing.T) {
	_, c := startHTTP(t)
	c.ok(c.auth("POST", "/v1/vaults", `{"name": "connect-vault"}`))

	// Connect, unary, JSON: a plain POST (Connect-Protocol-Version tells it
	// from REST).
	r := c.auth("POST", "/wormvault.v1.VaultService/ListVaults", `{}`, "Content-Type", "application/json", "Connect-Protocol-Version", "1")
	got := c.ok(r)
	if vs := got["vaults"].([]any); len(vs) != 1 || vs[0].(map[string]any)["name"] != "connect-vault" {
		t.Fatalf("Connect ListVaults: %s", r.body)
	}
	wantSecurityHeaders(t, r)
	// Connect errors are JSON with a code name.
	r = c.auth("POST", "/wormvault.v1.VaultService/GetVault", `{"name": "connect-missing"}`, "Content-Type", "application/json", "Connect-Protocol-Version", "1")
	if r.StatusCode != http.StatusNotFound || !strings.Contains(string(r.body), `"code":"not_found"`) {
		t.Fatalf("Connect GetVault of a missing vault: %s", r)
	}

	// gRPC-Web, binary: one framed message in, frames out, the status in
	// a trailer frame.
	req, _ := proto.Marshal(&wormvaultv1.GetVaultRequest{Name: "connect-vault"})
	frame := append([]byte{0, 0, 0, 0, 0}, req...)
	binary.BigEndian.PutUint32(frame[1:5], uint32(len(req)))
	r = c.auth("POST", "/wormvault.v1.VaultService/GetVault", frame, "Content-Type", "application/grpc-web+proto", "X-Grpc-Web", "1")
	if r.StatusCode != http.StatusOK {
		t.Fatalf("gRPC-Web: %s", r)
	}
	var resp wormvaultv1.GetVaultResponse
	var trailer string
	for b := r.body; len(b) >= 5; {
		n := int(binary.BigEndian.Uint32(b[1:5]))
		if b[0]&0x80 != 0 {
			trailer = string(b[5 : 5+n])
		} else if err := proto.Unmarshal(b[5:5+n], &resp); err != nil {
			t.Fatal(err)
		}
		b = b[5+n:]
	}
	if resp.GetVault().GetName() != "connect-vault" || !strings.Contains(strings.ToLower(strings.ReplaceAll(trailer, " ", "")), "grpc-status:0") {
		t.Fatalf("gRPC-Web answered %v, trailer %q", &resp, trailer)
	}
}

// envelope frames a Connect streaming message.
func envelope(flags byte, msg []byte) []byte {
	env := append([]byte{flags, 0, 0, 0, 0}, msg...)
	binary.BigEndian.PutUint32(env[1:5], uint32(len(msg)))
	return env
}

// TestHTTPConnectStreaming: Connect's client streaming (an upload, for
// clients that are not browsers) and server streaming (a download, which
// browsers can do) over HTTP/1.1.
func TestHTTPConnectStreaming(t *testing.T) {
	_, c := startHTTP(t)
	c.ok(c.auth("POST", "/v1/vaults", `{"name": "stream-vault"}`))
	data := bytes.Repeat([]byte("x"), 5<<20) // two download chunks
	up := envelope(0, []byte(`{"header": {"vault": "stream-vault", "key": "big.bin"}}`))
	for i := 0; i < 5; i++ {
		up = append(up, envelope(0, []byte(mustJSON(map[string][]byte{"chunk": data[i<<20 : (i+1)<<20]})))...)
	}
	r := c.auth("POST", "/wormvault.v1.ArchiveService/UploadArchive", up, "Content-Type", "application/connect+json")
	if r.StatusCode != http.StatusOK || !bytes.Contains(r.body, []byte(`"sizeBytes":"5242880"`)) {
		t.Fatalf("Connect upload: %s", r)
	}
	r = c.auth("POST", "/wormvault.v1.ArchiveService/DownloadArchive", envelope(0, []byte(`{"vault": "stream-vault", "key": "big.bin"}`)),
		"Content-Type", "application/connect+json")
	if r.StatusCode != http.StatusOK {
		t.Fatalf("Connect stream: %s", r)
	}
	var got []byte
	var end string
	for b := r.body; len(b) >= 5; {
		n := int(binary.BigEndian.Uint32(b[1:5]))
		if b[0]&0x02 != 0 {
			end = string(b[5 : 5+n])
		} else {
			var m struct {
				Archive map[string]any `json:"archive"`
				Chunk   []byte         `json:"chunk"`
			}
			if err := json.Unmarshal(b[5:5+n], &m); err != nil {
				t.Fatal(err)
			}
			got = append(got, m.Chunk...)
		}
		b = b[5+n:]
	}
	if !bytes.Equal(got, data) || strings.Contains(end, "error") {
		t.Fatalf("Connect stream: %d bytes, end %s", len(got), end)
	}
}

func TestHTTPAuthentication(t *testing.T) {
	_, c := startHTTP(t)
	c.ok(c.auth("POST", "/v1/vaults", `{"name": "auth-vault"}`))
	wantError(t, c.do("GET", "/v1/vaults", nil), http.StatusUnauthorized, "")
	wantError(t, c.do("GET", "/v1/vaults", nil, "Authorization", "Bearer AKWVNOPE.nope"), http.StatusUnauthorized, "")
	wantError(t, c.do("PUT", "/v1/vaults/auth-vault/archives/a", "x"), http.StatusUnauthorized, "")
	wantError(t, c.do("GET", "/v1/vaults/auth-vault/archives/a?alt=media", nil), http.StatusUnauthorized, "")
	r := c.do("POST", "/wormvault.v1.VaultService/ListVaults", `{}`, "Content-Type", "application/json", "Connect-Protocol-Version", "1")
	if r.StatusCode != http.StatusUnauthorized || !strings.Contains(string(r.body), `"code":"unauthenticated"`) {
		t.Fatalf("Connect without a key: %s", r)
	}
	// PERMISSION_DENIED: an explicit DENY binds root too.
	c.ok(c.auth("PUT", "/v1/vaults/auth-vault/policy",
		`{"policy": "{\"statements\":[{\"effect\":\"DENY\",\"principals\":[\"*\"],\"actions\":[\"wormvault:ListArchives\"],\"resources\":[\"*\"]}]}"}`))
	wantError(t, c.auth("GET", "/v1/vaults/auth-vault/archives", nil), http.StatusForbidden, "POLICY_DENIED")
}

// TestHTTPPeer: the interceptors see the HTTP client as the peer — its
// address, and plaintext as plaintext — though the call runs in process.
func TestHTTPPeer(t *testing.T) {
	_, c := startHTTP(t)
	c.ok(c.auth("POST", "/v1/vaults", `{"name": "peer-vault"}`))
	c.ok(c.auth("PUT", "/v1/vaults/peer-vault/policy", `{"policy": `+mustJSON(`{"statements":[
		{"sid":"tls-only","effect":"DENY","principals":["*"],"actions":["wormvault:GetVault"],"resources":["*"],"condition":"!request.secure_transport"},
		{"sid":"from-127-0-0-2","effect":"DENY","principals":["*"],"actions":["wormvault:ListArchives","wormvault:UploadArchive"],"resources":["*"],"condition":"request.source_ip != '127.0.0.2'"}]}`)+`}`))
	wantError(t, c.auth("GET", "/v1/vaults/peer-vault", nil), http.StatusForbidden, "POLICY_DENIED")
	wantError(t, c.auth("GET", "/v1/vaults/peer-vault/archives", nil), http.StatusForbidden, "POLICY_DENIED")
	wantError(t, c.auth("PUT", "/v1/vaults/peer-vault/archives/a", "x"), http.StatusForbidden, "POLICY_DENIED")

	from2 := &httpClient{t: t, base: c.base, token: c.token, c: &http.Client{Transport: &http.Transport{
		DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}).DialContext,
	}}}
	defer from2.c.CloseIdleConnections()
	from2.ok(from2.auth("GET", "/v1/vaults/peer-vault/archives", nil))
	from2.ok(from2.auth("PUT", "/v1/vaults/peer-vault/archives/a", "x"))
}

// TestHTTPTLS: over HTTPS the same call is secure transport.
func TestHTTPTLS(t *testing.T) {
	s, _ := startHTTP(t, servertest.WithDevTLS())
	pem, err := os.ReadFile(s.Config().DevTLSCertFile())
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	c := &httpClient{t: t, base: "https://" + s.HTTPAddr(), token: s.Token, c: &http.Client{Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true,
	}}}
	defer c.c.CloseIdleConnections()
	c.ok(c.auth("POST", "/v1/vaults", `{"name": "tls-vault"}`))
	c.ok(c.auth("PUT", "/v1/vaults/tls-vault/policy", `{"policy": `+mustJSON(`{"statements":[
		{"sid":"tls-only","effect":"DENY","principals":["*"],"actions":["wormvault:GetVault"],"resources":["*"],"condition":"!request.secure_transport"}]}`)+`}`))
	r := c.auth("GET", "/v1/vaults/tls-vault", nil)
	c.ok(r)
	if r.ProtoMajor != 2 {
		t.Errorf("HTTPS answered over %s, want HTTP/2", r.Proto)
	}
}

func TestHTTPConsole(t *testing.T) {
	_, c := startHTTP(t)
	c.c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	r := c.do("GET", "/console/", nil)
	if r.StatusCode != http.StatusOK || !strings.Contains(string(r.body), "<html") {
		t.Fatalf("console: %s", r)
	}
	wantSecurityHeaders(t, r)
	if r := c.do("GET", "/console/vaults/records", nil); r.StatusCode != http.StatusOK || !strings.Contains(string(r.body), "<html") {
		t.Fatalf("a console route is not index.html: %s", r)
	}
	if r := c.do("GET", "/console/missing.js", nil); r.StatusCode != http.StatusNotFound {
		t.Fatalf("a missing asset: %s", r)
	}
	if r := c.do("GET", "/", nil); r.StatusCode != http.StatusFound || r.Header.Get("Location") != "/console/" {
		t.Fatalf("/: %s %v", r.Status, r.Header)
	}
}

func TestHTTPConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  func(*server.Config)
		ok   bool
	}{
		{"loopback with origins", func(c *server.Config) {
			c.HTTPListen, c.CORSOrigins = "127.0.0.1:7421", []string{"https://*.example.com", "http://localhost:5173"}
		}, true},
		{"off", func(c *server.Config) {}, true},
		{"origin with a path", func(c *server.Config) {
			c.HTTPListen, c.CORSOrigins = "127.0.0.1:7421", []string{"https://example.com/app"}
		}, false},
		{"origins without the listener", func(c *server.Config) { c.CORSOrigins = []string{"https://example.com"} }, false},
		{"the gRPC port", func(c *server.Config) { c.HTTPListen = c.Listen }, false},
		{"plaintext off loopback", func(c *server.Config) { c.HTTPListen = "0.0.0.0:7421" }, false},
	} {
		cfg := server.DefaultConfig()
		cfg.Vault.DataDir = t.TempDir()
		tc.set(&cfg)
		if err := cfg.Validate(); (err == nil) != tc.ok {
			t.Errorf("%s: Validate = %v", tc.name, err)
		}
	}
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// corsHeaders returns the response's CORS headers.
func corsHeaders(r httpResult) http.Header {
	out := http.Header{}
	for k, v := range r.Header {
		if strings.HasPrefix(k, "Access-Control-") || k == "Vary" {
			out[k] = v
		}
	}
	return out
}

func TestHTTPCORS(t *testing.T) {
	s, c := startHTTP(t, servertest.WithConfig(func(c *server.Config) { c.CORSOrigins = []string{"https://console.example.com"} }))
	c.ok(c.auth("POST", "/v1/vaults", `{"name": "cors-vault"}`))
	c.ok(c.auth("POST", "/v1/vaults", `{"name": "plain-vault"}`))
	rules := `{"rules": [
		{"allowed_origins": ["https://app.example.com", "https://*.example.org"], "allowed_methods": ["GET", "PUT"],
		 "allowed_headers": ["Authorization", "content-type"], "expose_headers": ["X-Wormvault-Version-Id"], "max_age_seconds": 600},
		{"allowed_origins": ["http://localhost:5173"], "allowed_methods": ["DELETE"]}]}`
	c.ok(c.auth("PATCH", "/v1/vaults/cors-vault", `{"vault": {"cors": `+rules+`}, "update_mask": "cors"}`))
	got := c.ok(c.auth("GET", "/v1/vaults/cors-vault", nil))
	if rs := got["vault"].(map[string]any)["cors"].(map[string]any)["rules"].([]any); len(rs) != 2 {
		t.Fatalf("GetVault: %v", got)
	}
	c.ok(c.auth("PUT", "/v1/vaults/cors-vault/archives/a.txt", "hello"))
	c.ok(c.auth("PUT", "/v1/vaults/plain-vault/archives/a.txt", "hello"))

	preflight := func(path, origin, method, headers string) httpResult {
		t.Helper()
		h := []string{"Origin", origin, "Access-Control-Request-Method", method}
		if headers != "" {
			h = append(h, "Access-Control-Request-Headers", headers)
		}
		return c.do("OPTIONS", path, nil, h...)
	}
	const archive = "/v1/vaults/cors-vault/archives/a.txt"
	for _, tc := range []struct {
		name, path, origin, method, headers string
		allowed                             bool
	}{
		{"allowed origin, method and headers", archive, "https://app.example.com", "GET", "authorization, content-type", true},
		{"header names in any case", archive, "https://app.example.com", "PUT", "Content-Type,AUTHORIZATION", true},
		{"wildcard origin", archive, "https://eu.example.org", "GET", "", true},
		{"the vault itself", "/v1/vaults/cors-vault", "https://app.example.com", "GET", "authorization", true},
		{"a custom method route", archive + ":retention", "https://app.example.com", "GET", "authorization", true},
		{"second rule", archive, "http://localhost:5173", "DELETE", "", true},
		{"wrong origin", archive, "https://evil.example.com", "GET", "authorization", false},
		{"wrong scheme", archive, "http://app.example.com", "GET", "authorization", false},
		{"wrong port", archive, "https://app.example.com:8443", "GET", "authorization", false},
		{"wrong host", archive, "https://www.app.example.com", "GET", "", false},
		{"method not allowed", archive, "https://app.example.com", "DELETE", "", false},
		{"method of another origin's rule", archive, "http://localhost:5173", "GET", "", false},
		{"header not allowed", archive, "https://app.example.com", "GET", "authorization, x-wormvault-mfa", false},
		{"opaque origin", archive, "null", "GET", "", false},
		{"vault without rules", "/v1/vaults/plain-vault/archives/a.txt", "https://app.example.com", "GET", "", false},
		{"missing vault", "/v1/vaults/no-such-vault/archives/a.txt", "https://app.example.com", "GET", "", false},
		{"server-wide origin on a vault route", archive, "https://console.example.com", "GET", "", false},
		{"server-wide origin, Connect", "/wormvault.v1.ArchiveService/GetArchive", "https://console.example.com", "POST",
			"authorization, content-type, connect-protocol-version", true},
		{"server-wide origin, REST outside a vault", "/v1/vaults", "https://console.example.com", "POST", "authorization, content-type", true},
		{"vault origin, Connect", "/wormvault.v1.ArchiveService/GetArchive", "https://app.example.com", "POST", "content-type", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := preflight(tc.path, tc.origin, tc.method, tc.headers)
			h := corsHeaders(r)
			if !tc.allowed {
				if r.StatusCode != http.StatusForbidden || len(h) != 0 {
					t.Fatalf("refused preflight answered %s with CORS headers %v", r.Status, h)
				}
				return
			}
			if r.StatusCode != http.StatusOK || h.Get("Access-Control-Allow-Origin") != tc.origin ||
				!strings.Contains(h.Get("Access-Control-Allow-Methods"), tc.method) || !strings.Contains(h.Get("Vary"), "Origin") {
				t.Fatalf("allowed preflight answered %s, %v", r.Status, h)
			}
			norm := func(s string) string { return strings.ReplaceAll(s, " ", "") }
			if tc.headers != "" && norm(h.Get("Access-Control-Allow-Headers")) != norm(tc.headers) {
				t.Fatalf("Access-Control-Allow-Headers %q, want %q", h.Get("Access-Control-Allow-Headers"), tc.headers)
			}
		})
	}
	if r := preflight(archive, "https://app.example.com", "GET", ""); r.Header.Get("Access-Control-Max-Age") != "600" ||
		r.Header.Get("Access-Control-Allow-Methods") != "GET, PUT" {
		t.Fatalf("preflight headers: %v", r.Header)
	}

	// Actual requests: the allow-origin header only when a rule matches;
	// the request is served either way (the browser withholds it).
	for _, tc := range []struct {
		name, path, origin string
		allowed            bool
	}{
		{"allowed", archive, "https://app.example.com", true},
		{"wildcard", archive, "https://eu.example.org", true},
		{"wrong origin", archive, "https://evil.example.com", false},
		{"wrong scheme", archive, "http://app.example.com", false},
		{"wrong port", archive, "https://app.example.com:8443", false},
		{"vault without rules", "/v1/vaults/plain-vault/archives/a.txt", "https://app.example.com", false},
	} {
		t.Run("actual "+tc.name, func(t *testing.T) {
			r := c.auth("GET", tc.path+"?alt=media", nil, "Origin", tc.origin)
			if r.StatusCode != http.StatusOK || string(r.body) != "hello" {
				t.Fatalf("GET: %s", r)
			}
			h := corsHeaders(r)
			if !tc.allowed {
				if len(h) != 0 {
					t.Fatalf("CORS headers %v", h)
				}
				return
			}
			if h.Get("Access-Control-Allow-Origin") != tc.origin || h.Get("Vary") != "Origin" ||
				h.Get("Access-Control-Expose-Headers") != "X-Wormvault-Version-Id" {
				t.Fatalf("CORS headers %v", h)
			}
		})
	}
	// A method no rule allows for the origin.
	if h := corsHeaders(c.auth("DELETE", "/v1/vaults/cors-vault/archives/b.txt", nil, "Origin", "https://app.example.com")); len(h) != 0 {
		t.Fatalf("DELETE from an origin allowed GET and PUT: %v", h)
	}
	r := c.auth("POST", "/wormvault.v1.VaultService/ListVaults", `{}`, "Content-Type", "application/json", "Connect-Protocol-Version", "1",
		"Origin", "https://console.example.com")
	if r.Header.Get("Access-Control-Allow-Origin") != "https://console.example.com" {
		t.Fatalf("Connect from the server-wide origin: %v", r.Header)
	}

	// Bad rules name their field; removing the rules leaves none.
	r = c.auth("PATCH", "/v1/vaults/cors-vault", `{"vault": {"cors": {"rules": [{"allowed_origins": ["https://a.example.com", "https://*.*.example.com"], "allowed_methods": ["GET"]}]}}, "update_mask": "cors"}`)
	wantError(t, r, http.StatusBadRequest, "INVALID_ARGUMENT")
	if !strings.Contains(string(r.body), "vault.cors.rules[0].allowed_origins[1]") {
		t.Fatalf("error does not name the field: %s", r.body)
	}
	wantError(t, c.auth("PATCH", "/v1/vaults/cors-vault", `{"vault": {"cors": {"rules": [{"allowed_origins": ["https://a.example.com"], "allowed_methods": ["get"]}]}}, "update_mask": "cors"}`),
		http.StatusBadRequest, "INVALID_ARGUMENT")

	// The rules are journaled with the vault: they survive a restart.
	s.Restart()
	c.base = "http://" + s.HTTPAddr()
	if r := preflight(archive, "https://app.example.com", "GET", ""); r.StatusCode != http.StatusOK {
		t.Fatalf("after a restart: %s", r)
	}
	c.ok(c.auth("PATCH", "/v1/vaults/cors-vault", `{"vault": {}, "update_mask": "cors"}`))
	if r := preflight(archive, "https://app.example.com", "GET", ""); r.StatusCode != http.StatusForbidden {
		t.Fatalf("after removing the rules: %s", r)
	}
}

// TestHTTPRefusedUpload: an upload refused before its body was read leaves
// the connection usable, or closes it; never a connection whose later
// requests fail. Refusing one once cancelled the context of every later
// request on a kept-alive connection (its read deadline was set in the
// past), and a download after it ended without a status.
func TestHTTPRefusedUpload(t *testing.T) {
	_, c := startHTTP(t)
	c.ok(c.auth("POST", "/v1/vaults", `{"name": "refused"}`))
	one := &httpClient{t: t, base: c.base, token: c.token, c: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxConnsPerHost: 1}}}
	defer one.c.CloseIdleConnections()
	for i := range 100 {
		wantError(t, one.do("PUT", "/v1/vaults/refused/archives/a", "x"), http.StatusUnauthorized, "")
		wantError(t, one.do("GET", "/v1/vaults/refused/archives/a?alt=media", nil), http.StatusUnauthorized, "")
		if t.Failed() {
			t.Fatalf("round %d", i)
		}
	}

	// A client that sends part of its body and stalls: the refusal comes
	// at once, and the server closes the connection it stalled on.
	conn, err := net.Dial("tcp", strings.TrimPrefix(c.base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "PUT /v1/vaults/refused/archives/stalled HTTP/1.1\r\nHost: wormvault\r\nContent-Length: 100\r\n\r\nx"); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || !resp.Close {
		t.Fatalf("stalled upload: %s, connection close %t", resp.Status, resp.Close)
	}
	if n, err := br.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("after the stalled upload's answer: read %d bytes, %v; want the connection closed", n, err)
	}
	wantError(t, one.do("GET", "/v1/vaults/refused/archives/a?alt=media", nil), http.StatusUnauthorized, "")
}

// TestHTTPRange: a download takes one byte range, "bytes=FIRST-LAST" or
// "bytes=FIRST-", and answers 206 with its Content-Range; other forms are
// ignored (the whole archive, 200) and a range starting past the end is
// 416.
func TestHTTPRange(t *testing.T) {
	_, c := startHTTP(t)
	c.ok(c.auth("POST", "/v1/vaults", `{"name": "ranges"}`))
	data := make([]byte, 200<<10) // stored as shards, not inline
	for i := range data {
		data[i] = byte(i * 7)
	}
	c.ok(c.auth("PUT", "/v1/vaults/ranges/archives/big.bin", data))
	c.ok(c.auth("PUT", "/v1/vaults/ranges/archives/empty", ""))
	const path = "/v1/vaults/ranges/archives/big.bin?alt=media"
	size := len(data)
	for _, tc := range []struct {
		rng           string
		code          int
		first, last   int // the bytes sent, last inclusive
		contentRanged bool
	}{
		{"bytes=10-19", http.StatusPartialContent, 10, 19, true},
		{"bytes=0-0", http.StatusPartialContent, 0, 0, true},
		{"bytes=100000-", http.StatusPartialContent, 100000, size - 1, true},
		{"bytes=65530-65545", http.StatusPartialContent, 65530, 65545, true}, // across a package
		{"bytes=204700-999999999", http.StatusPartialContent, 204700, size - 1, true},
		{"bytes=-5", http.StatusOK, 0, size - 1, false},
		{"bytes=0-1,5-6", http.StatusOK, 0, size - 1, false},
		{"bytes=9-3", http.StatusOK, 0, size - 1, false},
		{"items=0-5", http.StatusOK, 0, size - 1, false},
		{"", http.StatusOK, 0, size - 1, false},
	} {
		var hdr []string
		if tc.rng != "" {
			hdr = []string{"Range", tc.rng}
		}
		r := c.auth("GET", path, nil, hdr...)
		if r.StatusCode != tc.code || !bytes.Equal(r.body, data[tc.first:tc.last+1]) {
			t.Fatalf("Range %q: %s with %d bytes, want %d and bytes [%d,%d]", tc.rng, r.Status, len(r.body), tc.code, tc.first, tc.last)
		}
		want := ""
		if tc.contentRanged {
			want = fmt.Sprintf("bytes %d-%d/%d", tc.first, tc.last, size)
		}
		if got := r.Header.Get("Content-Range"); got != want {
			t.Fatalf("Range %q: Content-Range %q, want %q", tc.rng, got, want)
		}
		if r.Header.Get("Accept-Ranges") != "bytes" || r.Header.Get("Content-Length") != strconv.Itoa(tc.last-tc.first+1) {
			t.Fatalf("Range %q: Accept-Ranges %q, Content-Length %q", tc.rng, r.Header.Get("Accept-Ranges"), r.Header.Get("Content-Length"))
		}
	}
	wantError(t, c.auth("GET", path, nil, "Range", fmt.Sprintf("bytes=%d-", size)), http.StatusRequestedRangeNotSatisfiable, "INVALID_ARGUMENT")
	// If-Range: the range applies while the ETag still matches; a newer
	// version, another ETag, a weak one or a date gets the whole archive.
	etag := c.auth("GET", path, nil).Header.Get("ETag")
	if r := c.auth("GET", path, nil, "Range", "bytes=10-19", "If-Range", etag); r.StatusCode != http.StatusPartialContent || !bytes.Equal(r.body, data[10:20]) {
		t.Fatalf("Range with a matching If-Range: %s, %d bytes", r.Status, len(r.body))
	}
	newer := bytes.Repeat([]byte("n"), 1000)
	c.ok(c.auth("PUT", "/v1/vaults/ranges/archives/big.bin", newer))
	for _, ifRange := range []string{etag, "W/" + etag, `"` + strings.Repeat("0", 64) + `"`, "Fri, 27 Nov 2026 10:00:00 GMT"} {
		r := c.auth("GET", path, nil, "Range", "bytes=10-19", "If-Range", ifRange)
		if r.StatusCode != http.StatusOK || !bytes.Equal(r.body, newer) || r.Header.Get("Content-Range") != "" || r.Header.Get("Content-Length") != "1000" {
			t.Fatalf("Range with If-Range %s on a newer version: %s, %d bytes, Content-Range %q", ifRange, r.Status, len(r.body), r.Header.Get("Content-Range"))
		}
	}
	// An empty archive has no byte to range over: it is sent whole.
	if r := c.auth("GET", "/v1/vaults/ranges/archives/empty?alt=media", nil, "Range", "bytes=0-"); r.StatusCode != http.StatusOK || len(r.body) != 0 {
		t.Fatalf("empty archive with a range: %s, %d bytes", r.Status, len(r.body))
	}
}

func TestParseByteRange(t *testing.T) {
	for _, tc := range []struct {
		h           string
		off, length int64
		ok          bool
	}{
		{"bytes=0-9", 0, 10, true},
		{"bytes=5-", 5, 0, true},
		{"bytes= 5-6", 5, 2, true},
		{"bytes=-5", 0, 0, false},
		{"bytes=6-5", 0, 0, false},
		{"bytes=1-2,4-5", 0, 0, false},
		{"bytes=x-5", 0, 0, false},
		{"bytes=0-9223372036854775807", 0, 0, false},
		{"bytes=-", 0, 0, false},
		{"pages=1-2", 0, 0, false},
	} {
		off, length, ok := server.ParseByteRangeForTest(tc.h)
		if off != tc.off || length != tc.length || ok != tc.ok {
			t.Errorf("%q: %d, %d, %t; want %d, %d, %t", tc.h, off, length, ok, tc.off, tc.length, tc.ok)
		}
	}
}

// TestHTTPEscapedPaths: REST paths are read as the client escaped them. An
// access point is the vault segment "ap%2FNAME"; a key may end in ':'
// written "%3A" (a literal ':' starts a custom method) and hold '%' written
// "%25", on the bytes routes and on vanguard's alike.
func TestHTTPEscapedPaths(t *testing.T) {
	_, c := startHTTP(t)
	c.ok(c.auth("POST", "/v1/vaults", `{"name": "esc-vault"}`))
	c.ok(c.auth("POST", "/wormvault.v1.AccessPointService/CreateAccessPoint",
		`{"name": "esc-door", "vault": "esc-vault", "networkOrigin": {"allowedCidrs": ["127.0.0.0/8"]}, "policy": `+mustJSON(allowAll)+`}`,
		"Content-Type", "application/json", "Connect-Protocol-Version", "1"))

	for _, tc := range []struct{ path, vault, key string }{
		{"/v1/vaults/ap%2Fesc-door/archives/via/door.txt", "esc-vault", "via/door.txt"},
		{"/v1/vaults/esc-vault/archives/time%3A12", "esc-vault", "time:12"},
		{"/v1/vaults/esc-vault/archives/100%25%20sure", "esc-vault", "100% sure"},
		// An escaped '/' in a key is a '/' (encodeURIComponent of a key).
		{"/v1/vaults/esc-vault/archives/dir%2Ffile", "esc-vault", "dir/file"},
	} {
		body := "bytes of " + tc.key
		up := c.ok(c.auth("PUT", tc.path, body))
		a, _ := up["archive"].(map[string]any)
		if a["vault"] != tc.vault || a["key"] != tc.key {
			t.Fatalf("PUT %s stored %v/%v, want %s/%s", tc.path, a["vault"], a["key"], tc.vault, tc.key)
		}
		if r := c.auth("GET", tc.path+"?alt=media", nil); r.StatusCode != http.StatusOK || string(r.body) != body {
			t.Fatalf("GET %s?alt=media: %s", tc.path, r)
		}
		// vanguard's GetArchive and its custom method on the same key.
		if m, _ := c.ok(c.auth("GET", tc.path, nil))["archive"].(map[string]any); m["key"] != tc.key || m["vault"] != tc.vault {
			t.Fatalf("GET %s: %v", tc.path, m)
		}
		c.ok(c.auth("GET", tc.path+":explainProtection", nil))
	}
	// Listing through the access point shows its vault's archives.
	l := c.ok(c.auth("GET", "/v1/vaults/ap%2Fesc-door/archives", nil))
	if as, _ := l["archives"].([]any); len(as) != 4 {
		t.Fatalf("listing through the access point: %v", l)
	}
	// A literal ':' in the last segment is still a custom method.
	wantError(t, c.auth("GET", "/v1/vaults/esc-vault/archives/time:12", nil), http.StatusNotFound, "")

	// A preflight through the access point follows its vault's CORS rules.
	c.ok(c.auth("PATCH", "/v1/vaults/esc-vault", `{"vault": {"cors": {"rules": [{"allowed_origins": ["https://app.example.com"], "allowed_methods": ["GET"]}]}}, "update_mask": "cors"}`))
	r := c.do("OPTIONS", "/v1/vaults/ap%2Fesc-door/archives/via/door.txt", nil, "Origin", "https://app.example.com", "Access-Control-Request-Method", "GET")
	if r.StatusCode != http.StatusNoContent && r.StatusCode != http.StatusOK || r.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" {
		t.Fatalf("preflight through the access point: %s %v", r, r.Header)
	}
}
