package soak

import (
	"bytes"
	"crypto/sha256"
	"io"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
)

// TestSoakShort is the short soak `make test` runs: 8 clients for 20 s
// against a real server process, with every fault this machine can inject.
// Nothing acknowledged may be lost or corrupted, and no error may be
// unexpected.
func TestSoakShort(t *testing.T) {
	if testing.Short() {
		t.Skip("the soak runs for 20 s")
	}
	cfg := ShortConfig()
	cfg.WorkDir = t.TempDir()
	cfg.Progress = t.Output()
	rep, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	rep.Print(&out)
	t.Log("\n" + out.String())
	if !rep.Passed() {
		t.Fatalf("the soak failed: %s", strings.Join(rep.Failures, "; "))
	}
	if rep.Verified == 0 {
		t.Fatal("nothing was verified")
	}
}

func TestJudge(t *testing.T) {
	calm := faultState{}
	down := faultState{serverDown: true}
	quorumMaybeLost := faultState{maxDrivesDown: 2, minDrivesDown: 1}
	quorumLost := faultState{maxDrivesDown: 2, minDrivesDown: 2}
	oneDrive := faultState{maxDrivesDown: 1, minDrivesDown: 1}
	upload := func(code codes.Code, reason string, sharded bool) outcome {
		return outcome{kind: opUpload, code: code, reason: reason, sharded: sharded}
	}
	for _, tc := range []struct {
		name string
		o    outcome
		st   faultState
		want verdict
	}{
		{"upload ok", upload(codes.OK, "", true), calm, ok},
		{"upload ok with one drive out", upload(codes.OK, "", true), oneDrive, ok},
		{"sharded upload acknowledged below quorum", upload(codes.OK, "", true), quorumLost, unexpected},
		{"inline upload needs no drive quorum", upload(codes.OK, "", false), quorumLost, ok},
		{"upload ok while quorum maybe lost", upload(codes.OK, "", true), quorumMaybeLost, ok},
		{"no write quorum while lost", upload(codes.Unavailable, "NO_WRITE_QUORUM", true), quorumMaybeLost, expectedErr},
		{"no write quorum with one drive out", upload(codes.Unavailable, "NO_WRITE_QUORUM", true), oneDrive, unexpected},
		{"inline upload refused for quorum", upload(codes.Unavailable, "NO_WRITE_QUORUM", false), quorumLost, unexpected},
		{"unavailable while server down", upload(codes.Unavailable, "", true), down, expectedErr},
		{"unavailable in calm", upload(codes.Unavailable, "", true), calm, unexpected},
		{"internal is never expected", upload(codes.Internal, "", true), down, unexpected},
		{"denied delete denied", outcome{kind: opDeniedDelete, code: codes.PermissionDenied, reason: "RETENTION_COMPLIANCE_ACTIVE"}, calm, expectedErr},
		{"denied delete allowed", outcome{kind: opDeniedDelete, code: codes.OK}, calm, unexpected},
		{"denied delete allowed while server down", outcome{kind: opDeniedDelete, code: codes.OK}, down, unexpected},
		{"denied delete unavailable while down", outcome{kind: opDeniedDelete, code: codes.Unavailable}, down, expectedErr},
		{"permission denied elsewhere", outcome{kind: opRetention, code: codes.PermissionDenied}, calm, unexpected},
		{"hold release after a lost answer", outcome{kind: opHoldOff, code: codes.NotFound, reason: "NO_LEGAL_HOLD", holdUncertain: true}, calm, expectedErr},
		{"hold release of no hold", outcome{kind: opHoldOff, code: codes.NotFound, reason: "NO_LEGAL_HOLD"}, calm, unexpected},
		{"corrupt download", outcome{kind: opDownload, corrupt: true}, down, unexpected},
		{"download ok", outcome{kind: opDownload}, quorumLost, ok},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := judge(tc.o, tc.st); got != tc.want {
				t.Fatalf("judge(%+v, %+v) = %v, want %v", tc.o, tc.st, got, tc.want)
			}
		})
	}
}

func TestStateDuring(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	// Drive A out from 10 to 30 (effective 10.1 to 29.9), drive B from 20
	// to 30; the server down from 40 to 45.
	drives := []span{
		{outerFrom: at(10), innerFrom: at(10.1), innerTo: at(29.9), outerTo: at(30)},
		{outerFrom: at(20), innerFrom: at(20.1), innerTo: at(29.9), outerTo: at(30)},
	}
	server := []span{{outerFrom: at(40), innerFrom: at(40), innerTo: at(41), outerTo: at(45)}}
	for _, tc := range []struct {
		name     string
		from, to float64
		want     faultState
	}{
		{"before", 0, 5, faultState{}},
		{"one drive throughout", 12, 18, faultState{maxDrivesDown: 1, minDrivesDown: 1}},
		{"across the second fault", 15, 25, faultState{maxDrivesDown: 2, minDrivesDown: 1}},
		{"both throughout", 21, 28, faultState{maxDrivesDown: 2, minDrivesDown: 2}},
		{"across the repair", 25, 35, faultState{maxDrivesDown: 2, minDrivesDown: 0}},
		{"touching the edge", 9, 10, faultState{maxDrivesDown: 1, minDrivesDown: 0}},
		{"server down", 44, 50, faultState{serverDown: true}},
		{"after", 46, 50, faultState{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := stateDuring(drives, server, at(tc.from), at(tc.to)); got != tc.want {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
	// A fault still in force has open ends.
	open := []span{{outerFrom: at(10), innerFrom: at(10.1)}}
	if got := stateDuring(open, nil, at(100), at(200)); got != (faultState{maxDrivesDown: 1, minDrivesDown: 1}) {
		t.Fatalf("open span: got %+v", got)
	}
}

func TestParseWindow(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Window
		bad  bool
	}{
		{"off", Window{}, false},
		{"", Window{}, false},
		{"30s+15s", Window{30 * time.Second, 15 * time.Second}, false},
		{"0s+1m", Window{0, time.Minute}, false},
		{"30s", Window{}, true},
		{"30s+0s", Window{}, true},
		{"-1s+5s", Window{}, true},
		{"x+5s", Window{}, true},
	} {
		got, err := ParseWindow(tc.in)
		if (err != nil) != tc.bad || got != tc.want {
			t.Errorf("ParseWindow(%q) = %v, %v; want %v, error %v", tc.in, got, err, tc.want, tc.bad)
		}
	}
	if got, err := ParseOffsets("100s, 90s"); err != nil || len(got) != 2 || got[0] != 90*time.Second {
		t.Errorf("ParseOffsets: %v, %v", got, err)
	}
	if _, err := ParseOffsets("soon"); err == nil {
		t.Error("ParseOffsets accepted garbage")
	}
}

func TestConfigValidate(t *testing.T) {
	for _, cfg := range []Config{DefaultConfig(), ShortConfig()} {
		if err := cfg.Validate(); err != nil {
			t.Errorf("%+v: %v", cfg, err)
		}
	}
	c := ShortConfig()
	c.Faults.Kill9 = []time.Duration{c.Faults.Remove.At + time.Second}
	if err := c.Validate(); err == nil {
		t.Error("accepted SIGKILL during a drive fault")
	}
	c = ShortConfig()
	c.Faults.Kill9 = []time.Duration{c.Duration}
	if err := c.Validate(); err == nil {
		t.Error("accepted SIGKILL after the run")
	}
}

// TestContent checks that an upload's content reads back the same through
// every offset, as the SDK's retry (seek back, read again) needs.
func TestContent(t *testing.T) {
	pool := newPool(1, 1<<16)
	c := content{head: []byte("head-0123456789"), body: pool[100:5000]}
	whole, err := io.ReadAll(io.NewSectionReader(c, 0, c.size()))
	if err != nil || int64(len(whole)) != c.size() {
		t.Fatalf("read %d bytes, %v", len(whole), err)
	}
	if !bytes.Equal(whole, append([]byte("head-0123456789"), pool[100:5000]...)) {
		t.Fatal("content is not head then body")
	}
	for _, off := range []int64{0, 3, 15, 16, 4000, c.size() - 1} {
		p := make([]byte, 7)
		n, _ := c.ReadAt(p, off)
		if !bytes.Equal(p[:n], whole[off:min(off+7, c.size())]) {
			t.Fatalf("ReadAt %d: got %q", off, p[:n])
		}
	}
	if c.sum() != sha(whole) {
		t.Fatal("sum is not the SHA-256 of the content")
	}
}

func sha(b []byte) [32]byte { return sha256.Sum256(b) }
