// Command benchreport is `make bench`: it measures wormvault and prints each
// figure next to its reference from the same run, so the ratio needs no
// arithmetic. References are either measured here (the erasure layer's
// in-process ceilings) or quoted from PERFORMANCE.md (MinIO on this machine
// kind) and marked as such.
//
// The server runs as its own process, so its peak RSS is its own.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"

	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
)

// MinIO's figures on this machine kind, from PERFORMANCE.md.
const (
	minioLarge1   = 205.0 // MB/s, 64 x 16 MiB PUT, one stream
	minioLarge4   = 279.0 // MB/s, four streams
	minioSmall1   = 232.0 // objects/s, 4 KiB PUT, one stream
	minioSmall16  = 392.0 // objects/s, sixteen streams
	rssBudgetMiB  = 256.0
	mib           = 1 << 20
	uploadChunk   = 1 << 20
	defaultBigGiB = 1
)

type row struct {
	name, unit string
	ours, ref  float64
	refName    string
}

func main() {
	bigGiB := flag.Int("big-gib", defaultBigGiB, "size of the large upload/download in GiB")
	rssGiB := flag.Int("rss-gib", 4, "size of the upload during which server RSS is sampled, in GiB")
	small := flag.Int("small", 1000, "number of 4 KiB archives per small-archive run")
	skipErasure := flag.Bool("skip-erasure", false, "skip the erasure package benchmarks")
	only := flag.String("only", "", "run one phase alone on a fresh server: access-log")
	flag.Parse()
	var err error
	switch *only {
	case "":
		err = run(*bigGiB, *rssGiB, *small, *skipErasure)
	case "access-log":
		err = runAccessLogOnly(*small)
	default:
		err = fmt.Errorf("-only %q: the phases are access-log", *only)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		os.Exit(1)
	}
}

func run(bigGiB, rssGiB, small int, skipErasure bool) error {
	var rows []row
	ceiling := map[string]float64{}
	if !skipErasure {
		fmt.Fprintln(os.Stderr, "== erasure layer benchmarks (go test -bench ./erasure/)")
		var err error
		ceiling, err = erasureBench()
		if err != nil {
			return err
		}
		for _, geo := range []string{"4+2", "8+4", "12+4"} {
			for _, p := range []struct{ ours, ref, label string }{
				{"Encode", "CeilingEncode", "erasure encode"},
				{"Write", "CeilingWrite", "erasure write (fsync'd files)"},
				{"Reconstruct", "CeilingReconstruct", "erasure reconstruct"},
			} {
				o, r := ceiling[p.ours+"/"+geo], ceiling[p.ref+"/"+geo]
				if o > 0 {
					rows = append(rows, row{name: p.label + " " + geo, unit: "MB/s", ours: o, ref: r, refName: "in-process ceiling"})
				}
			}
		}
	}

	fmt.Fprintln(os.Stderr, "== policy evaluation (go test -bench ./lock/policy/)")
	if ns, err := policyBench(); err != nil {
		return err
	} else {
		rows = append(rows, row{name: "policy evaluation, 20 statements", unit: "µs/request", ours: ns / 1000, ref: 20, refName: "target (must stay below)"})
	}

	dir, srv, c, done, err := freshServer()
	if err != nil {
		return err
	}
	defer done()
	if _, err := c.vaults.CreateVault(c.ctx(), &wormvaultv1.CreateVaultRequest{Name: "bench"}); err != nil {
		return err
	}

	size := int64(bigGiB) << 30
	// rss prints the server's resident memory between phases, so a figure
	// over the budget can be traced to the phase that raised it.
	rss := func(after string) {
		fmt.Fprintf(os.Stderr, "   server VmRSS %.0f MiB (anonymous %.0f, file-backed %.0f), VmHWM %.0f MiB after %s\n",
			srv.rssMiB("VmRSS"), srv.rssMiB("RssAnon"), srv.rssMiB("RssFile"), srv.hwm(), after)
	}
	fmt.Fprintf(os.Stderr, "== %d GiB upload and download over loopback\n", bigGiB)
	up, err := timeIt(func() error { return c.upload("bench", "big", size) })
	if err != nil {
		return err
	}
	down, err := timeIt(func() error { return c.download("bench", "big", size) })
	if err != nil {
		return err
	}
	ideal := ceiling["CeilingWrite/4+2"]
	rows = append(rows,
		row{name: fmt.Sprintf("upload %d GiB, 1 stream", bigGiB), unit: "MB/s", ours: mbps(size, up), ref: ideal, refName: "ideal pipeline (erasure ceiling, 4+2)"},
		row{name: fmt.Sprintf("upload %d GiB, 1 stream", bigGiB), unit: "MB/s", ours: mbps(size, up), ref: minioLarge1, refName: "MinIO 16 MiB PUT, 1 stream"},
		row{name: fmt.Sprintf("download %d GiB, 1 stream", bigGiB), unit: "MB/s", ours: mbps(size, down), ref: math.NaN(), refName: "-"},
	)

	rss("the large upload and download")
	fmt.Fprintln(os.Stderr, "== 64 x 16 MiB uploads, 1 and 4 streams")
	for _, streams := range []int{1, 4} {
		d, err := timeIt(func() error {
			return parallel(64, streams, func(i int) error { return c.upload("bench", fmt.Sprintf("m16/%d-%d", streams, i), 16*mib) })
		})
		if err != nil {
			return err
		}
		ref := minioLarge1
		if streams == 4 {
			ref = minioLarge4
		}
		rows = append(rows, row{name: fmt.Sprintf("64 x 16 MiB upload, %d stream(s)", streams), unit: "MB/s", ours: mbps(64*16*mib, d), ref: ref, refName: "MinIO, same shape"})
	}

	rss("64 x 16 MiB")
	fmt.Fprintf(os.Stderr, "== %d x 4 KiB uploads, 1 and 16 streams\n", small)
	for _, streams := range []int{1, 16} {
		d, err := timeIt(func() error {
			return parallel(small, streams, func(i int) error { return c.upload("bench", fmt.Sprintf("s4k/%d-%d", streams, i), 4096) })
		})
		if err != nil {
			return err
		}
		ref := minioSmall1
		if streams == 16 {
			ref = minioSmall16
		}
		rows = append(rows, row{name: fmt.Sprintf("%d x 4 KiB upload, %d stream(s)", small, streams), unit: "archives/s", ours: float64(small) / d.Seconds(), ref: ref, refName: "MinIO, same shape"})
	}

	rss("4 KiB uploads")
	if rows, err = appendBatchRows(rows, dir, srv, c); err != nil {
		return err
	}
	rss("batch put")

	fmt.Fprintf(os.Stderr, "== %d x 4 KiB uploads, 16 streams, on a server storing small archives as shards\n", small)
	{
		sdir := filepath.Join(dir, "shards-only")
		if err := os.MkdirAll(sdir, 0o700); err != nil {
			return err
		}
		srv2, err := startServer(sdir, "--inline-threshold", "0")
		if err != nil {
			return err
		}
		c2, err := dialServer(srv2)
		if err != nil {
			srv2.stop()
			return err
		}
		if _, err := c2.vaults.CreateVault(c2.ctx(), &wormvaultv1.CreateVaultRequest{Name: "bench"}); err != nil {
			srv2.stop()
			return err
		}
		var inline, sharded time.Duration
		inline, err = timeIt(func() error {
			return parallel(small, 16, func(i int) error { return c.upload("bench", fmt.Sprintf("inl/%d", i), 4096) })
		})
		if err == nil {
			sharded, err = timeIt(func() error {
				return parallel(small, 16, func(i int) error { return c2.upload("bench", fmt.Sprintf("shd/%d", i), 4096) })
			})
		}
		c2.cc.Close()
		srv2.stop()
		if err != nil {
			return err
		}
		rows = append(rows, row{name: fmt.Sprintf("%d x 4 KiB upload, 16 streams, inline (default)", small), unit: "archives/s",
			ours: float64(small) / inline.Seconds(), ref: float64(small) / sharded.Seconds(), refName: "same run, stored as 4+2 shard files"})
	}

	fmt.Fprintf(os.Stderr, "== %d x 4 KiB uploads, 16 streams, into a vault with a 20-statement vault lock policy\n", small)
	if _, err := c.vaults.CreateVault(c.ctx(), &wormvaultv1.CreateVaultRequest{Name: "bench-locked"}); err != nil {
		return err
	}
	if _, err := c.locks.InitiateVaultLock(c.ctx(), &wormvaultv1.InitiateVaultLockRequest{Vault: "bench-locked", Policy: twentyStatementPolicy("bench-locked")}); err != nil {
		return err
	}
	var plain, locked time.Duration
	for _, v := range []struct {
		vault string
		d     *time.Duration
	}{{"bench", &plain}, {"bench-locked", &locked}} {
		*v.d, err = timeIt(func() error {
			return parallel(small, 16, func(i int) error { return c.upload(v.vault, fmt.Sprintf("pol/%d", i), 4096) })
		})
		if err != nil {
			return err
		}
	}
	rows = append(rows, row{name: fmt.Sprintf("%d x 4 KiB upload, 16 streams, vault lock policy", small), unit: "archives/s",
		ours: float64(small) / locked.Seconds(), ref: float64(small) / plain.Seconds(), refName: "same run without a policy (target >= 0.95x)"})

	rss("the vault lock policy run")
	if rows, err = accessLogBench(srv, c, small, rows); err != nil {
		return err
	}
	rss("the access-log run")
	if rows, err = encryptionBench(dir, int64(bigGiB)<<30, rows); err != nil {
		return err
	}

	fmt.Fprintf(os.Stderr, "== %d GiB upload while sampling server RSS\n", rssGiB)
	stopSampling := srv.sampleRSS(100 * time.Millisecond)
	if err := c.upload("bench", "rss", int64(rssGiB)<<30); err != nil {
		return err
	}
	peakSampled := stopSampling()
	rows = append(rows,
		row{name: fmt.Sprintf("server anonymous RSS peak during %d GiB upload", rssGiB), unit: "MiB", ours: peakSampled, ref: rssBudgetMiB, refName: "budget (must stay below)"},
		row{name: "server VmHWM over the whole run, incl. mapped files", unit: "MiB", ours: srv.hwm(), ref: math.NaN(), refName: "Badger's mapped value log included"},
	)

	return printRows(rows)
}

// printRows prints the figures as a table, each next to its reference.
func printRows(rows []row) error {
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "figure\tours\treference\tratio\tunit\treference is\t")
	for _, r := range rows {
		ratio := "-"
		refs := "-"
		if !math.IsNaN(r.ref) && r.ref > 0 {
			ratio = fmt.Sprintf("%.2fx", r.ours/r.ref)
			refs = fmt.Sprintf("%.1f", r.ref)
		}
		fmt.Fprintf(w, "%s\t%.1f\t%s\t%s\t%s\t%s\t\n", r.name, r.ours, refs, ratio, r.unit, r.refName)
	}
	return w.Flush()
}

func mbps(n int64, d time.Duration) float64 { return float64(n) / 1e6 / d.Seconds() }

func timeIt(f func() error) (time.Duration, error) {
	start := time.Now()
	err := f()
	return time.Since(start), err
}

func parallel(n, workers int, f func(i int) error) error {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	next := make(chan int)
	for range workers {
		wg.Go(func() {
			for i := range next {
				if err := f(i); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return errors.Join(errs...)
}

// erasureBench runs the erasure package's benchmarks and returns MB/s by
// "Name/geometry".
func erasureBench() (map[string]float64, error) {
	cmd := exec.Command("go", "test", "-run", "^$", "-bench", "^Benchmark(Ceiling)?(Encode|Write|Reconstruct)$", "-benchtime", "5x", "./erasure/")
	cmd.Stderr = io.Discard
	out, err := cmd.Output()
	os.Stderr.Write(out)
	if err != nil {
		return nil, fmt.Errorf("erasure benchmarks: %w", err)
	}
	re := regexp.MustCompile(`^Benchmark(\w+)/(\d+\+\d+)(?:-\d+)?\s.*?([\d.]+) MB/s`)
	res := map[string]float64{}
	for _, line := range strings.Split(string(out), "\n") {
		if m := re.FindStringSubmatch(line); m != nil {
			v, _ := strconv.ParseFloat(m[3], 64)
			res[m[1]+"/"+m[2]] = v
		}
	}
	if len(res) == 0 {
		return nil, errors.New("erasure benchmarks printed no MB/s figures")
	}
	keys := make([]string, 0, len(res))
	for k := range res {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return res, nil
}

// policyBench returns ns/op of the policy package's 20-statement benchmark.
func policyBench() (float64, error) {
	out, err := exec.Command("go", "test", "-run", "^$", "-bench", "Eval20", "-benchtime", "20000x", "./lock/policy/").CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("policy benchmark: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`Eval20\w*(?:-\d+)?\s+\d+\s+([\d.]+) ns/op`).FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("policy benchmark printed no ns/op:\n%s", out)
	}
	return strconv.ParseFloat(string(m[1]), 64)
}

// server is the wormvault server as a child process.
type server struct {
	cmd   *exec.Cmd
	addr  string
	token string
}

// freshServer starts a server over a new temporary directory and dials it;
// done stops it and removes the directory.
func freshServer() (dir string, srv *server, c *client, done func(), err error) {
	if dir, err = os.MkdirTemp("", "wormvault-bench-"); err != nil {
		return "", nil, nil, nil, err
	}
	if srv, err = startServer(dir); err != nil {
		os.RemoveAll(dir)
		return "", nil, nil, nil, err
	}
	if c, err = dialServer(srv); err != nil {
		srv.stop()
		os.RemoveAll(dir)
		return "", nil, nil, nil, err
	}
	return dir, srv, c, func() {
		c.cc.Close()
		srv.stop()
		os.RemoveAll(dir)
	}, nil
}

func startServer(dir string, extra ...string) (*server, error) {
	bin := filepath.Join(dir, "wormvault")
	if out, err := exec.Command("go", "build", "-o", bin, "./cmd/wormvault").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build: %v\n%s", err, out)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	l.Close()
	data := filepath.Join(dir, "data")
	cmd := exec.Command(bin, append([]string{"serve", "--data", data, "--listen", addr, "--log-level", "warn"}, extra...)...)
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{cmd: cmd, addr: addr}
	deadline := time.Now().Add(30 * time.Second)
	for {
		b, err := os.ReadFile(filepath.Join(data, "root.credentials"))
		if err == nil {
			sc := bufio.NewScanner(bytes.NewReader(b))
			for sc.Scan() {
				if l := strings.TrimSpace(sc.Text()); l != "" && !strings.HasPrefix(l, "#") {
					s.token = l
				}
			}
		}
		if s.token != "" {
			break
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, errors.New("server did not write its credentials")
		}
		time.Sleep(50 * time.Millisecond)
	}
	return s, nil
}

func (s *server) stop() {
	s.cmd.Process.Signal(syscall.SIGTERM)
	s.cmd.Wait()
}

// rssMiB reads a field (VmRSS, VmHWM) of the server's /proc status in MiB.
func (s *server) rssMiB(field string) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return math.NaN()
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == field+":" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return math.NaN()
}

func (s *server) hwm() float64 { return s.rssMiB("VmHWM") }

// cpu is the CPU time the server has used so far, user and system.
func (s *server) cpu() time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	// The fields after the command name, which is in parentheses.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	// Clock ticks; 100 per second on Linux.
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// sampleRSS samples the server's RssAnon until the returned function is
// called, which returns the peak. RssAnon is the memory the server
// allocates: VmRSS also counts
// file pages mapped into the process, and Badger maps its value log, so
// VmRSS grows with the inline archives stored (480 MiB after the batch
// runs) although those pages are the kernel's page cache, reclaimable.
func (s *server) sampleRSS(every time.Duration) func() float64 {
	var peak float64
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			if v := s.rssMiB("RssAnon"); v > peak {
				peak = v
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() float64 { close(done); <-stopped; return peak }
}

type client struct {
	cc       *grpc.ClientConn
	token    string
	vaults   wormvaultv1.VaultServiceClient
	archives wormvaultv1.ArchiveServiceClient
	locks    wormvaultv1.LockServiceClient
}

// twentyStatementPolicy is a vault lock policy of 20 DENY statements with
// conditions, none of which denies an upload, so every request pays for
// evaluating all of them.
func twentyStatementPolicy(vault string) string {
	var stmts []string
	for i := range 20 {
		stmts = append(stmts, fmt.Sprintf(`{"sid":"s%d","effect":"DENY","principals":["*"],"actions":["wormvault:DeleteArchive","wormvault:UploadArchive"],"resources":["vaults/%s/archives/*"],"condition":"archive.age_days < %d && request.principal == \"nobody-%d\""}`, i, vault, 365+i, i))
	}
	return `{"statements":[` + strings.Join(stmts, ",") + `]}`
}

func dialServer(s *server) (*client, error) {
	cc, err := grpc.NewClient(s.addr,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithInitialWindowSize(4<<20), grpc.WithInitialConnWindowSize(16<<20),
		grpc.WithReadBufferSize(1<<20), grpc.WithWriteBufferSize(1<<20),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(8<<20)))
	if err != nil {
		return nil, err
	}
	c := &client{cc: cc, token: s.token, vaults: wormvaultv1.NewVaultServiceClient(cc), archives: wormvaultv1.NewArchiveServiceClient(cc), locks: wormvaultv1.NewLockServiceClient(cc)}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		r, err := healthpb.NewHealthClient(cc).Check(ctx, &healthpb.HealthCheckRequest{}, grpc.WaitForReady(true))
		if err == nil && r.GetStatus() == healthpb.HealthCheckResponse_SERVING {
			return c, nil
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("server not healthy: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (c *client) ctx() context.Context {
	return metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+c.token)
}

// chunkSource is random bytes generated once and sent repeatedly, so the
// client spends no time making data.
var chunkSource = func() []byte {
	b := make([]byte, uploadChunk)
	rand.Read(b)
	return b
}()

func (c *client) upload(vault, key string, size int64) error {
	st, err := c.archives.UploadArchive(c.ctx())
	if err != nil {
		return err
	}
	if err := st.Send(&wormvaultv1.UploadArchiveRequest{Data: &wormvaultv1.UploadArchiveRequest_Header{Header: &wormvaultv1.ArchiveHeader{Vault: vault, Key: key}}}); err != nil {
		return err
	}
	for sent := int64(0); sent < size; {
		n := min(int64(len(chunkSource)), size-sent)
		if err := st.Send(&wormvaultv1.UploadArchiveRequest{Data: &wormvaultv1.UploadArchiveRequest_Chunk{Chunk: chunkSource[:n]}}); err != nil {
			break
		}
		sent += n
	}
	resp, err := st.CloseAndRecv()
	if err != nil {
		return fmt.Errorf("upload %s: %w", key, err)
	}
	if resp.GetArchive().GetSizeBytes() != size {
		return fmt.Errorf("upload %s: stored %d bytes, sent %d", key, resp.GetArchive().GetSizeBytes(), size)
	}
	return nil
}

func (c *client) download(vault, key string, size int64) error {
	st, err := c.archives.DownloadArchive(c.ctx(), &wormvaultv1.DownloadArchiveRequest{Vault: vault, Key: key})
	if err != nil {
		return err
	}
	var got int64
	for {
		m, err := st.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		got += int64(len(m.GetChunk()))
	}
	if got != size {
		return fmt.Errorf("download %s: got %d bytes, want %d", key, got, size)
	}
	return nil
}
