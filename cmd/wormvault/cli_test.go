package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/wormvault/wormvault"
	client "github.com/wormvault/wormvault/clients/go"
	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
)

func TestParseCredentials(t *testing.T) {
	tests := []struct {
		name, in, want string
		wantErr        bool
	}{
		{"plain", "AK1.secret\n", "AK1.secret", false},
		{"comments first", "# wormvault root access key\n# keep it secret\n\nAK1.secret\nignored\n", "AK1.secret", false},
		{"indented and CRLF", "  # c\r\n   AK1.secret  \r\n", "AK1.secret", false},
		{"no trailing newline", "#c\nAK1.s", "AK1.s", false},
		{"only comments", "# nothing\n\n", "", true},
		{"empty", "", "", true},
		{"two words", "token AK1.secret\n", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseCredentials(strings.NewReader(tt.in))
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("parseCredentials = %q, %v; want %q, err %v", got, err, tt.want, tt.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), "secret") {
				t.Errorf("error leaks the secret: %v", err)
			}
		})
	}
}

func TestResolveToken(t *testing.T) {
	t.Chdir(t.TempDir())
	env := map[string]string{}
	a := &app{getenv: func(k string) string { return env[k] }}
	if tok, err := a.resolveToken(); err != nil || tok != "" {
		t.Errorf("no flag, env or file: %q, %v", tok, err)
	}
	if err := os.MkdirAll(filepath.Dir(credentialsFile), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(credentialsFile, []byte("# root\nFILE.tok\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		flag, env, want string
	}{
		{"", "", "FILE.tok"},
		{"", "ENV.tok", "ENV.tok"},
		{"FLAG.tok", "ENV.tok", "FLAG.tok"},
	}
	for _, s := range steps {
		a.token, env[envToken] = s.flag, s.env
		if tok, err := a.resolveToken(); err != nil || tok != s.want {
			t.Errorf("flag %q env %q: token %q, %v; want %q", s.flag, s.env, tok, err, s.want)
		}
	}
}

func TestParsePeriod(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{"30d", 30 * day, false},
		{"10y", 10 * year, false},
		{"1Y", year, false},
		{"720h", 720 * time.Hour, false},
		{"0d", 0, true},
		{"-1y", 0, true},
		{"y", 0, true},
		{"10w", 0, true},
		{"", 0, true},
		{"abc", 0, true},
	}
	for _, tt := range tests {
		got, err := parsePeriod(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("parsePeriod(%q) = %v, %v; want %v, err %v", tt.in, got, err, tt.want, tt.wantErr)
		}
		if err != nil && exitCode(err) != exitUsage {
			t.Errorf("parsePeriod(%q) error is not a usage error", tt.in)
		}
		if err == nil {
			if back, _ := parsePeriod(formatPeriod(got)); back != got {
				t.Errorf("formatPeriod(%v) = %q does not round-trip", got, formatPeriod(got))
			}
		}
	}
	for d, want := range map[time.Duration]string{10 * year: "10y", 30 * day: "30d", 90 * time.Minute: "1h30m0s"} {
		if got := formatPeriod(d); got != want {
			t.Errorf("formatPeriod(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestParseRetention(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name, spec, mode, until string
		want                    wormvault.Retention
		set, wantErr            bool
	}{
		{name: "none"},
		{name: "days", spec: "governance:30d", want: wormvault.Retention{Mode: wormvault.RetentionGovernance, RetainUntil: now.AddDate(0, 0, 30)}, set: true},
		{name: "years", spec: "COMPLIANCE:7y", want: wormvault.Retention{Mode: wormvault.RetentionCompliance, RetainUntil: now.AddDate(7, 0, 0)}, set: true},
		{name: "mode in spec with until", spec: "compliance", until: "2030-01-02T03:04:05Z",
			want: wormvault.Retention{Mode: wormvault.RetentionCompliance, RetainUntil: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}, set: true},
		{name: "mode flag with until", mode: "governance", until: "2030-01-02T03:04:05+02:00",
			want: wormvault.Retention{Mode: wormvault.RetentionGovernance, RetainUntil: time.Date(2030, 1, 2, 1, 4, 5, 0, time.UTC)}, set: true},
		{name: "mode without until", spec: "compliance", wantErr: true},
		{name: "until without mode", until: "2030-01-02T03:04:05Z", wantErr: true},
		{name: "spec and until", spec: "governance:30d", until: "2030-01-02T03:04:05Z", wantErr: true},
		{name: "spec and mode", spec: "governance", mode: "compliance", until: "2030-01-02T03:04:05Z", wantErr: true},
		{name: "bad mode", spec: "forever:1d", wantErr: true},
		{name: "bad unit", spec: "governance:1w", wantErr: true},
		{name: "bad time", mode: "governance", until: "tomorrow", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, set, err := parseRetention(tt.spec, tt.mode, tt.until, now)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil {
				if exitCode(err) != exitUsage {
					t.Errorf("error %v is not a usage error", err)
				}
				return
			}
			if set != tt.set || got.Mode != tt.want.Mode || !got.RetainUntil.Equal(tt.want.RetainUntil) {
				t.Errorf("got %+v set %v, want %+v set %v", got, set, tt.want, tt.set)
			}
		})
	}
}

func TestParseMeta(t *testing.T) {
	md, err := parseMeta([]string{"a=1", "b=x=y", "c="})
	if err != nil || md["a"] != "1" || md["b"] != "x=y" || md["c"] != "" || len(md) != 3 {
		t.Errorf("parseMeta = %v, %v", md, err)
	}
	for _, bad := range []string{"novalue", "=v"} {
		if _, err := parseMeta([]string{bad}); exitCode(err) != exitUsage {
			t.Errorf("parseMeta(%q) err = %v, want usage error", bad, err)
		}
	}
}

func TestExitCode(t *testing.T) {
	serverSaidNo := &client.Error{Code: codes.FailedPrecondition, Reason: "RETENTION_COMPLIANCE_ACTIVE", Message: "no"}
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, 0},
		{"usage", usagef("bad flag"), 2},
		{"cobra's own", errors.New(`unknown command "x" for "wormvault"`), 2},
		{"run error", &exitError{code: exitFailure, err: serverSaidNo}, 1},
		{"wrapped run error", fmt.Errorf("ctx: %w", &exitError{code: exitFailure, err: io.ErrUnexpectedEOF}), 1},
	}
	for _, tt := range tests {
		if got := exitCode(tt.err); got != tt.want {
			t.Errorf("%s: exitCode = %d, want %d", tt.name, got, tt.want)
		}
	}
}

func TestMarkRunErrors(t *testing.T) {
	root := &cobra.Command{Use: "x"}
	fail := &cobra.Command{Use: "fail", RunE: func(*cobra.Command, []string) error { return io.ErrUnexpectedEOF }}
	usage := &cobra.Command{Use: "usage", RunE: func(*cobra.Command, []string) error { return usagef("no") }}
	root.AddCommand(fail, usage)
	markRunErrors(root)
	if got := exitCode(fail.RunE(fail, nil)); got != exitFailure {
		t.Errorf("plain RunE error: exit %d, want 1", got)
	}
	if got := exitCode(usage.RunE(usage, nil)); got != exitUsage {
		t.Errorf("usage RunE error: exit %d, want 2", got)
	}
}

func TestReportError(t *testing.T) {
	root := &cobra.Command{Use: "wormvault"}
	tests := []struct {
		err  error
		code int
		want string
	}{
		{&exitError{code: 1, err: &client.Error{Code: codes.PermissionDenied, Message: "wormvault: version is under retention", Reason: "RETENTION_COMPLIANCE_ACTIVE"}}, 1,
			"wormvault: PermissionDenied: version is under retention (reason RETENTION_COMPLIANCE_ACTIVE)\n"},
		{usagef("accepts 2 arg(s), received 1"), 2, "wormvault: accepts 2 arg(s), received 1\nRun 'wormvault --help' for usage.\n"},
		{&exitError{code: 1, err: errors.New("open x: no such file")}, 1, "wormvault: open x: no such file\n"},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		reportError(&buf, root, tt.code, tt.err)
		if buf.String() != tt.want {
			t.Errorf("reportError = %q, want %q", buf.String(), tt.want)
		}
	}
}

func TestHumanBytes(t *testing.T) {
	for n, want := range map[int64]string{
		0: "0 B", 1: "1 B", 1023: "1023 B", 1024: "1.0 KiB", 1536: "1.5 KiB",
		1<<20 - 1: "1024.0 KiB", 5 << 20: "5.0 MiB", 3 << 30: "3.0 GiB", 1 << 40: "1.0 TiB",
	} {
		if got := humanBytes(n); got != want {
			t.Errorf("humanBytes(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestFormatting(t *testing.T) {
	ts := timestamppb.New(time.Date(2033, 3, 1, 0, 0, 0, 0, time.FixedZone("X", 3600)))
	tests := []struct{ got, want string }{
		{formatTime(ts), "2033-02-28T23:00:00Z"},
		{formatTime(nil), "-"},
		{formatSHA([]byte{0xde, 0xad, 0xbe, 0xef}), "deadbeef"},
		{formatSHA(nil), "-"},
		{formatRetention(nil), "none"},
		{formatRetention(&wormvaultv1.Retention{Mode: wormvaultv1.RetentionMode_RETENTION_MODE_COMPLIANCE, RetainUntilTime: ts}), "COMPLIANCE until 2033-02-28T23:00:00Z"},
		{formatRetention(&wormvaultv1.Retention{Mode: wormvaultv1.RetentionMode_RETENTION_MODE_GOVERNANCE, RetainUntilTime: ts, FromDefault: true}), "GOVERNANCE until 2033-02-28T23:00:00Z (vault default)"},
		{formatDefaultRetention(nil), "none"},
		{formatDefaultRetention(&wormvaultv1.DefaultRetention{Mode: wormvaultv1.RetentionMode_RETENTION_MODE_COMPLIANCE, Years: 7}), "compliance:7y"},
		{formatDefaultRetention(&wormvaultv1.DefaultRetention{Mode: wormvaultv1.RetentionMode_RETENTION_MODE_GOVERNANCE, Days: 30}), "governance:30d"},
		{formatMaxRetention(&wormvaultv1.Vault{MaxRetention: durationpb.New(100 * year)}), "100y"},
		{formatHolds(&wormvaultv1.Archive{}), "no"},
		{formatHolds(&wormvaultv1.Archive{LegalHold: true, LegalHolds: []*wormvaultv1.LegalHoldEntry{{HoldId: "default"}, {HoldId: "case-1"}}}), "yes (default, case-1)"},
	}
	for i, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%d: got %q, want %q", i, tt.got, tt.want)
		}
	}
}

func TestArchiveTable(t *testing.T) {
	a := &wormvaultv1.Archive{Vault: "v", Key: "k", VersionId: "ver", SizeBytes: 2048, Sha256: []byte{1, 2},
		Metadata: map[string]string{"b": "2", "a": "1"}, IsLatest: true}
	var buf bytes.Buffer
	if err := writeFields(&buf, archiveFields(a)); err != nil {
		t.Fatal(err)
	}
	want := `vault:       v
key:         k
version:     ver
size:        2.0 KiB (2048 bytes)
sha256:      0102
created:     -
latest:      yes
retention:   none
legal hold:  no
meta a:      1
meta b:      2
`
	if buf.String() != want {
		t.Errorf("archive fields:\n%s\nwant:\n%s", buf.String(), want)
	}
}

func TestJSONOutput(t *testing.T) {
	var buf bytes.Buffer
	v := &wormvaultv1.Vault{Name: "a"}
	if err := writeJSONLine(&buf, v); err != nil {
		t.Fatal(err)
	}
	if err := writeJSONLine(&buf, &wormvaultv1.Vault{Name: "b"}); err != nil {
		t.Fatal(err)
	}
	if got := buf.String(); got != "{\"name\":\"a\"}\n{\"name\":\"b\"}\n" {
		t.Errorf("JSON lines = %q", got)
	}
	buf.Reset()
	if err := writeJSON(&buf, v); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(buf.String(), "{\n") || !strings.Contains(buf.String(), `"name":`) {
		t.Errorf("JSON document = %q", buf.String())
	}
}

func TestProgressStartsLazily(t *testing.T) {
	var buf bytes.Buffer
	now := time.Unix(1000, 0)
	p := &progress{w: &buf, enabled: true, total: 100, start: now, now: func() time.Time { return now }}
	p.set(10)
	if p.bar != nil || buf.Len() != 0 {
		t.Fatal("bar drawn before a second passed")
	}
	now = now.Add(1500 * time.Millisecond)
	p.set(50)
	if p.bar == nil {
		t.Fatal("no bar after a second and a half")
	}
	p.done()

	off := &progress{w: &buf, enabled: false, total: 100, start: time.Unix(0, 0), now: time.Now}
	off.set(10)
	if off.bar != nil {
		t.Error("bar drawn when stderr is not a terminal")
	}
	if isTerminal(&buf) {
		t.Error("a buffer is a terminal")
	}
}

func TestUsageErrorsInProcess(t *testing.T) {
	tests := [][]string{
		{"bogus"},
		{"vault", "bogus"},
		{"put", "onlyvault"},
		{"get", "v", "k", "--offset", "-1"},
		{"vault", "create", "v", "--retention", "forever"},
		{"vault", "update", "v"},
		{"vault", "update", "v", "--retention", "governance:1d", "--no-retention"},
		{"vault", "update", "v", "--max-retention", "10w"},
		{"retention", "set", "v", "k"},
		{"retention", "set", "v", "k", "--remove", "--mode", "governance"},
		{"put", "v", "k", "-", "--meta", "novalue"},
		{"put", "v", "k", "-", "--sha256", "xyz"},
		{"ls"},
		{"stat", "--nope", "v", "k"},
		{"admin", "clock", "bogus"},
		{"lock", "bogus"},
		{"lock", "initiate", "v"},
		{"lock", "initiate", "v", "-"},
		{"lock", "complete", "v"},
		{"lock", "abort"},
		{"lock", "get", "v", "extra"},
		{"policy", "set", "v"},
		{"policy", "set", "v", "-"},
		{"policy", "get"},
		{"policy", "rm", "v", "w"},
	}
	for _, args := range tests {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), append(args, "--server", "127.0.0.1:1"), strings.NewReader(""), &stdout, &stderr,
				func(string) string { return "" })
			if code != exitUsage {
				t.Errorf("exit %d, want 2; stderr %q", code, stderr.String())
			}
			if !strings.HasPrefix(stderr.String(), "wormvault: ") || !strings.Contains(stderr.String(), "--help") {
				t.Errorf("stderr = %q", stderr.String())
			}
		})
	}
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"vault"}, nil, &stdout, &stderr, func(string) string { return "" }); code != 0 || !strings.Contains(stdout.String(), "Available Commands") {
		t.Errorf("bare group: exit %d, stdout %q", code, stdout.String())
	}
}

func TestVaultLockOutput(t *testing.T) {
	created := timestamppb.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	expires := timestamppb.New(time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC))
	l := &wormvaultv1.GetVaultLockResponse{
		Policy:     `{"statements":[{"sid":"s","effect":"DENY"}]}`,
		State:      wormvaultv1.VaultLockState_VAULT_LOCK_STATE_IN_PROGRESS,
		CreateTime: created,
		ExpireTime: expires,
	}
	var buf bytes.Buffer
	if err := writeVaultLock(&buf, l); err != nil {
		t.Fatal(err)
	}
	want := `state:    IN_PROGRESS
created:  2026-03-01T12:00:00Z
expires:  2026-03-02T12:00:00Z

policy:
{
  "statements": [
    {
      "sid": "s",
      "effect": "DENY"
    }
  ]
}
`
	if buf.String() != want {
		t.Errorf("lock get:\n%s\nwant:\n%s", buf.String(), want)
	}
	l.State = wormvaultv1.VaultLockState_VAULT_LOCK_STATE_LOCKED
	buf.Reset()
	if err := writeVaultLock(&buf, l); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "state:    LOCKED\n") || !strings.Contains(buf.String(), "expires:  never (locked)\n") {
		t.Errorf("locked lock get:\n%s", buf.String())
	}
	if got := formatPolicy("not json\n\n"); got != "not json\n" {
		t.Errorf("formatPolicy of non-JSON = %q", got)
	}
}
