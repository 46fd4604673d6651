package policy

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// doc builds a policy document from statement bodies.
func doc(stmts ...string) []byte {
	return []byte(`{"statements": [{` + strings.Join(stmts, `}, {`) + `}]}`)
}

func mustParse(t testing.TB, d []byte) *Policy {
	t.Helper()
	p, err := Parse(d)
	if err != nil {
		t.Fatalf("Parse(%s): %v", d, err)
	}
	return p
}

// cond is a statement of effect over every principal, action and resource,
// applying when expr holds.
func cond(sid, effect, expr string) string {
	return fmt.Sprintf(`"sid": %q, "effect": %q, "principals": ["*"], "actions": ["*"], "resources": ["*"], "condition": %q`, sid, effect, expr)
}

var (
	day2026 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	young   = &ArchiveFacts{Key: "2026/scan.tif", SizeBytes: 5 << 20, AgeDays: 10}
	old     = &ArchiveFacts{Key: "2024/scan.tif", SizeBytes: 5 << 20, AgeDays: 400}
	held    = &ArchiveFacts{Key: "court/x", AgeDays: 30, RetentionMode: "COMPLIANCE", RetainUntil: day2026.AddDate(5, 0, 0), LegalHold: true}
)

// del is a DeleteArchive by alice of key in vault photos.
func del(a *ArchiveFacts) Request {
	return Request{Principal: "alice", Action: "wormvault:DeleteArchive", Resource: "vaults/photos/archives/" + a.Key, Archive: a, Time: day2026}
}

func TestEval(t *testing.T) {
	const (
		allowAll       = `"sid": "AllowAll", "effect": "ALLOW", "principals": ["*"], "actions": ["*"], "resources": ["*"]`
		denyDelete     = `"sid": "NoDelete", "effect": "DENY", "principals": ["*"], "actions": ["wormvault:DeleteArchive"], "resources": ["*"]`
		glacier        = `"sid": "KeepAYear", "effect": "DENY", "principals": ["*"], "actions": ["wormvault:DeleteArchive"], "resources": ["vaults/photos/archives/*"], "condition": "archive.age_days < 365"`
		secureOnly     = `"sid": "TLSOnly", "effect": "DENY", "principals": ["*"], "actions": ["wormvault:*"], "resources": ["*"], "condition": "!request.secure_transport"`
		aliceReads     = `"sid": "AliceReads", "effect": "ALLOW", "principals": ["alice"], "actions": ["wormvault:Get*", "wormvault:List*"], "resources": ["vaults/photos", "vaults/photos/archives/*"]`
		bobYear2026    = `"sid": "Bob2026", "effect": "ALLOW", "principals": ["bob", "carol"], "actions": ["wormvault:DownloadArchive"], "resources": ["vaults/*/archives/2026/*"]`
		expensive      = `[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29]`
		expensiveExpr  = expensive + `.all(x, ` + expensive + `.all(y, ` + expensive + `.all(z, x + y + z >= 0)))`
		divideByZero   = `1 / (archive.size_bytes - archive.size_bytes) == 1`
		readsArchive   = `archive.legal_hold == false`
		getVaultPhotos = "vaults/photos"
	)
	secure := del(young)
	secure.SecureTransport = true
	get := func(principal, key string) Request {
		return Request{Principal: principal, Action: "wormvault:GetArchive", Resource: "vaults/photos/archives/" + key, Archive: young}
	}
	tests := []struct {
		name  string
		stmts []string
		req   Request
		want  Decision
		sid   string
	}{
		// Effects.
		{"deny wins over an earlier allow", []string{allowAll, denyDelete}, del(old), Deny, "NoDelete"},
		{"deny wins over a later allow", []string{denyDelete, allowAll}, del(old), Deny, "NoDelete"},
		{"allow when no deny applies", []string{allowAll, denyDelete}, get("alice", "k"), Allow, "AllowAll"},
		{"no statement applies", []string{denyDelete}, get("alice", "k"), NoMatch, ""},
		{"first applying allow names the decision", []string{cond("Never", "ALLOW", "false"), aliceReads, allowAll}, get("alice", "k"), Allow, "AliceReads"},
		{"bare action name in the request", []string{denyDelete}, Request{Action: "DeleteArchive", Resource: "vaults/photos/archives/k", Archive: old}, Deny, "NoDelete"},
		{"unknown action matches only a pattern", []string{aliceReads, allowAll}, Request{Principal: "alice", Action: "wormvault:Teleport", Resource: "vaults/photos"}, Allow, "AllowAll"},

		// Principals.
		{"named principal", []string{aliceReads}, get("alice", "k"), Allow, "AliceReads"},
		{"other principal", []string{aliceReads}, get("mallory", "k"), NoMatch, ""},
		{"second named principal", []string{bobYear2026}, Request{Principal: "carol", Action: "wormvault:DownloadArchive", Resource: "vaults/photos/archives/2026/a", Archive: young}, Allow, "Bob2026"},
		{"anonymous matches only *", []string{aliceReads, allowAll}, Request{Action: "wormvault:GetVault", Resource: getVaultPhotos}, Allow, "AllowAll"},

		// Wildcard actions and resources.
		{"Get* covers GetVault", []string{aliceReads}, Request{Principal: "alice", Action: "wormvault:GetVault", Resource: getVaultPhotos}, Allow, "AliceReads"},
		{"List* covers ListArchives", []string{aliceReads}, Request{Principal: "alice", Action: "wormvault:ListArchives", Resource: getVaultPhotos}, Allow, "AliceReads"},
		{"Get* misses DownloadArchive", []string{aliceReads}, Request{Principal: "alice", Action: "wormvault:DownloadArchive", Resource: "vaults/photos/archives/k", Archive: young}, NoMatch, ""},
		{"vault resource misses other vault", []string{aliceReads}, Request{Principal: "alice", Action: "wormvault:GetVault", Resource: "vaults/photos2"}, NoMatch, ""},
		{"archives/* misses the vault", []string{glacier}, Request{Principal: "alice", Action: "wormvault:DeleteArchive", Resource: "vaults/photos"}, NoMatch, ""},
		{"vaults/*/archives/2026/* matches", []string{bobYear2026}, Request{Principal: "bob", Action: "wormvault:DownloadArchive", Resource: "vaults/scans/archives/2026/deep/x", Archive: young}, Allow, "Bob2026"},
		{"vaults/*/archives/2026/* misses 2025", []string{bobYear2026}, Request{Principal: "bob", Action: "wormvault:DownloadArchive", Resource: "vaults/scans/archives/2025/x", Archive: young}, NoMatch, ""},
		{"vaults/*/archives/2026/* misses key 2026", []string{bobYear2026}, Request{Principal: "bob", Action: "wormvault:DownloadArchive", Resource: "vaults/scans/archives/2026", Archive: young}, NoMatch, ""},

		// The Glacier example and secure transport.
		{"glacier: 10 days old is denied", []string{allowAll, glacier}, del(young), Deny, "KeepAYear"},
		{"glacier: 400 days old is not", []string{allowAll, glacier}, del(old), Allow, "AllowAll"},
		{"glacier: only DeleteArchive", []string{glacier}, get("alice", young.Key), NoMatch, ""},
		{"insecure transport denied", []string{allowAll, secureOnly}, del(old), Deny, "TLSOnly"},
		{"secure transport allowed", []string{allowAll, secureOnly}, func() Request { r := del(old); r.SecureTransport = true; return r }(), Allow, "AllowAll"},

		// One condition per variable.
		{"request.principal", []string{cond("C", "DENY", `request.principal.startsWith("ali")`)}, del(old), Deny, "C"},
		{"request.principal false", []string{cond("C", "DENY", `request.principal == "bob"`)}, del(old), NoMatch, ""},
		{"request.action is prefixed", []string{cond("C", "DENY", `request.action == "wormvault:DeleteArchive"`)}, Request{Action: "DeleteArchive", Resource: getVaultPhotos}, Deny, "C"},
		{"request.secure_transport", []string{cond("C", "ALLOW", `request.secure_transport`)}, secure, Allow, "C"},
		{"request.mfa_present", []string{cond("C", "DENY", `!request.mfa_present`)}, del(old), Deny, "C"},
		{"request.mfa_present true", []string{cond("C", "DENY", `!request.mfa_present`)}, Request{MFAPresent: true, Resource: getVaultPhotos}, NoMatch, ""},
		{"request.encryption", []string{cond("C", "DENY", `request.encryption == ""`)}, Request{Action: "wormvault:UploadArchive", Resource: getVaultPhotos}, Deny, "C"},
		{"request.encryption set", []string{cond("C", "DENY", `request.encryption != "AES256"`)}, Request{Action: "wormvault:UploadArchive", Resource: getVaultPhotos, Encryption: "AES256"}, NoMatch, ""},
		{"request.time", []string{cond("C", "ALLOW", `request.time < timestamp("2027-01-01T00:00:00Z")`)}, del(old), Allow, "C"},
		{"request.time zero", []string{cond("C", "ALLOW", `request.time == timestamp("0001-01-01T00:00:00Z")`)}, Request{Resource: getVaultPhotos}, Allow, "C"},
		{"request.time year", []string{cond("C", "ALLOW", `request.time.getFullYear() == 2026`)}, del(old), Allow, "C"},
		{"request.access_point", []string{cond("C", "ALLOW", `request.access_point == "backup"`)}, Request{AccessPoint: "backup", Resource: getVaultPhotos}, Allow, "C"},
		{"request.source_ip in CIDR", []string{cond("C", "ALLOW", `cidr("10.0.0.0/8").containsIP(request.source_ip)`)}, Request{SourceIP: "10.1.2.3", Resource: getVaultPhotos}, Allow, "C"},
		{"request.source_ip outside CIDR", []string{cond("C", "ALLOW", `cidr("10.0.0.0/8").containsIP(request.source_ip)`)}, Request{SourceIP: "192.168.1.1", Resource: getVaultPhotos}, NoMatch, ""},
		{"archive.key", []string{cond("C", "DENY", `archive.key.startsWith("2026/")`)}, del(young), Deny, "C"},
		{"archive.size_bytes", []string{cond("C", "DENY", `archive.size_bytes > 1024 * 1024`)}, del(young), Deny, "C"},
		{"archive.age_days", []string{cond("C", "DENY", `archive.age_days >= 400`)}, del(old), Deny, "C"},
		{"archive.retention_mode", []string{cond("C", "DENY", `archive.retention_mode == "COMPLIANCE"`)}, del(held), Deny, "C"},
		{"archive.retention_mode none", []string{cond("C", "DENY", `archive.retention_mode == ""`)}, del(old), Deny, "C"},
		{"archive.retain_until", []string{cond("C", "DENY", `archive.retain_until > request.time + duration("8760h")`)}, del(held), Deny, "C"},
		{"archive.retain_until none", []string{cond("C", "DENY", `archive.retain_until > request.time`)}, del(old), NoMatch, ""},
		{"archive.legal_hold", []string{cond("C", "DENY", `archive.legal_hold`)}, del(held), Deny, "C"},
		{"vault.name from Vault", []string{cond("C", "DENY", `vault.name == "photos"`)}, Request{Vault: "photos", Resource: "*"}, Deny, "C"},
		{"vault.name from Resource", []string{cond("C", "DENY", `vault.name == "photos"`)}, del(old), Deny, "C"},
		{"vault.name of vault resource", []string{cond("C", "DENY", `vault.name == "photos"`)}, Request{Resource: getVaultPhotos}, Deny, "C"},

		// Archive facts absent.
		{"no archive: deny reading archive does not apply", []string{allowAll, cond("C", "DENY", readsArchive)}, Request{Action: "wormvault:GetVault", Resource: getVaultPhotos}, Allow, "AllowAll"},
		{"no archive: allow reading archive does not apply", []string{cond("C", "ALLOW", readsArchive)}, Request{Action: "wormvault:GetVault", Resource: getVaultPhotos}, NoMatch, ""},
		{"no archive: other conditions still apply", []string{cond("C", "DENY", `request.principal == "alice" || archive.legal_hold`)}, Request{Principal: "alice", Resource: getVaultPhotos}, NoMatch, ""},
		{"archive resource without facts: deny fails closed", []string{cond("C", "DENY", readsArchive)}, Request{Action: "wormvault:DeleteArchive", Resource: "vaults/photos/archives/k"}, Deny, "C"},
		{"archive resource without facts: allow fails closed", []string{cond("C", "ALLOW", readsArchive)}, Request{Action: "wormvault:DeleteArchive", Resource: "vaults/photos/archives/k"}, NoMatch, ""},

		// Evaluation errors fail closed.
		{"runtime error: deny applies", []string{allowAll, cond("C", "DENY", divideByZero)}, del(old), Deny, "C"},
		{"runtime error: allow does not", []string{cond("C", "ALLOW", divideByZero)}, del(old), NoMatch, ""},
		{"bad IP: deny applies", []string{cond("C", "DENY", `!cidr("10.0.0.0/8").containsIP(request.source_ip)`)}, Request{SourceIP: "nonsense", Resource: getVaultPhotos}, Deny, "C"},
		{"cost limit: deny applies", []string{allowAll, cond("Costly", "DENY", expensiveExpr)}, del(old), Deny, "Costly"},
		{"cost limit: allow does not", []string{cond("Costly", "ALLOW", expensiveExpr)}, del(old), NoMatch, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustParse(t, doc(tt.stmts...))
			got, sid := p.Eval(tt.req)
			if got != tt.want || sid != tt.sid {
				t.Errorf("Eval(%+v) = %v %q, want %v %q", tt.req, got, sid, tt.want, tt.sid)
			}
		})
	}
}

func TestCostLimitStopsEarly(t *testing.T) {
	list := "[" + strings.Repeat("1,", 199) + "1]"
	expr := list + ".all(a, " + list + ".all(b, " + list + ".all(c, " + list + ".all(d, a + b + c + d > 0))))"
	p := mustParse(t, doc(cond("Costly", "DENY", expr)))
	start := time.Now()
	d, _ := p.Eval(del(old))
	if took := time.Since(start); d != Deny || took > 2*time.Second {
		t.Errorf("Eval = %v after %v; want Deny, stopped long before 200^4 steps", d, took)
	}
}

func TestDecide(t *testing.T) {
	allow := mustParse(t, doc(`"sid": "A", "effect": "ALLOW", "principals": ["alice"], "actions": ["*"], "resources": ["*"]`))
	deny := mustParse(t, doc(`"sid": "D", "effect": "DENY", "principals": ["*"], "actions": ["wormvault:DeleteArchive"], "resources": ["*"]`))
	other := mustParse(t, doc(`"sid": "O", "effect": "ALLOW", "principals": ["bob"], "actions": ["*"], "resources": ["*"]`))
	tests := []struct {
		name     string
		req      Request
		policies []*Policy
		want     Decision
		sid      string
	}{
		{"deny in a later policy wins", del(old), []*Policy{allow, deny}, Deny, "D"},
		{"deny in an earlier policy wins", del(old), []*Policy{deny, allow}, Deny, "D"},
		{"allow and silence", Request{Principal: "alice", Action: "GetVault", Resource: "vaults/photos"}, []*Policy{other, deny, allow}, Allow, "A"},
		{"nil policies are skipped", Request{Principal: "alice", Action: "GetVault", Resource: "vaults/photos"}, []*Policy{nil, allow, nil}, Allow, "A"},
		{"silence everywhere", Request{Principal: "mallory", Action: "GetVault", Resource: "vaults/photos"}, []*Policy{other, deny, allow}, NoMatch, ""},
		{"no policies", del(old), nil, NoMatch, ""},
	}
	for _, tt := range tests {
		if got, sid := Decide(tt.req, tt.policies...); got != tt.want || sid != tt.sid {
			t.Errorf("%s: Decide = %v %q, want %v %q", tt.name, got, sid, tt.want, tt.sid)
		}
	}
	if NoMatch.String() != "NO_MATCH" || Allow.String() != "ALLOW" || Deny.String() != "DENY" {
		t.Error("Decision.String")
	}
}

// TestEvalConcurrent runs one policy from many goroutines; -race checks it.
func TestEvalConcurrent(t *testing.T) {
	p := mustParse(t, doc(benchPolicy()...))
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Go(func() {
			for i := 0; i < 200; i++ {
				a := *young
				a.AgeDays = int64(i * 3)
				r := benchRequest(&a)
				want := Allow
				if a.AgeDays < 365 {
					want = Deny
				}
				if d, _ := p.Eval(r); d != want {
					t.Errorf("age %d: Eval = %v, want %v", a.AgeDays, d, want)
					return
				}
			}
		})
	}
	wg.Wait()
}

// benchPolicy is 20 statements of the kinds a vault policy holds; for
// benchRequest, six need their condition evaluated.
func benchPolicy() []string {
	var s []string
	for i := 0; i < 8; i++ {
		s = append(s, fmt.Sprintf(`"sid": "Team%d", "effect": "ALLOW", "principals": ["user%d", "svc%d"], "actions": ["wormvault:Get*", "wormvault:List*", "wormvault:DownloadArchive"], "resources": ["vaults/team%d", "vaults/team%d/archives/*"]`, i, i, i, i, i))
	}
	for i := 0; i < 6; i++ {
		s = append(s, fmt.Sprintf(`"sid": "Prefix%d", "effect": "DENY", "principals": ["*"], "actions": ["wormvault:Delete*", "wormvault:SetRetention"], "resources": ["vaults/*/archives/legal%d/*"]`, i, i))
	}
	s = append(s,
		`"sid": "TLS", "effect": "DENY", "principals": ["*"], "actions": ["*"], "resources": ["*"], "condition": "!request.secure_transport"`,
		`"sid": "MFA", "effect": "DENY", "principals": ["*"], "actions": ["wormvault:DeleteArchive", "wormvault:BypassGovernanceRetention"], "resources": ["*"], "condition": "!request.mfa_present && archive.retention_mode != \"\""`,
		`"sid": "Net", "effect": "DENY", "principals": ["*"], "actions": ["wormvault:*"], "resources": ["vaults/photos*"], "condition": "!request.source_ip.startsWith(\"10.\")"`,
		`"sid": "Hours", "effect": "DENY", "principals": ["*"], "actions": ["wormvault:Delete*"], "resources": ["*"], "condition": "request.time.getHours() < 6"`,
		`"sid": "KeepAYear", "effect": "DENY", "principals": ["*"], "actions": ["wormvault:DeleteArchive"], "resources": ["vaults/photos/archives/*"], "condition": "archive.age_days < 365"`,
		`"sid": "Ops", "effect": "ALLOW", "principals": ["alice", "ops"], "actions": ["wormvault:*"], "resources": ["vaults/photos", "vaults/photos/archives/*"], "condition": "request.secure_transport && request.principal != \"\""`,
	)
	return s
}

func benchRequest(a *ArchiveFacts) Request {
	return Request{
		Principal: "alice", Action: "wormvault:DeleteArchive", Resource: "vaults/photos/archives/2026/scan.tif",
		SecureTransport: true, MFAPresent: true, Time: day2026, SourceIP: "10.0.0.7", Archive: a,
	}
}

func BenchmarkEval20Statements(b *testing.B) {
	p := mustParse(b, doc(benchPolicy()...))
	if n := len(p.Statements()); n != 20 {
		b.Fatalf("%d statements", n)
	}
	r := benchRequest(old)
	if d, sid := p.Eval(r); d != Allow || sid != "Ops" {
		b.Fatalf("Eval = %v %q", d, sid)
	}
	b.ReportAllocs()
	for b.Loop() {
		p.Eval(r)
	}
}

// BenchmarkEvalNoCondition is the common case: statements that differ by
// principal, action or resource, none with a condition to run.
func BenchmarkEvalNoCondition(b *testing.B) {
	p := mustParse(b, doc(benchPolicy()[:14]...))
	r := Request{Principal: "user7", Action: "wormvault:GetArchive", Resource: "vaults/team7/archives/x"}
	if d, sid := p.Eval(r); d != Allow || sid != "Team7" {
		b.Fatalf("Eval = %v %q", d, sid)
	}
	b.ReportAllocs()
	for b.Loop() {
		p.Eval(r)
	}
}
