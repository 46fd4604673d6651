package crashtest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"

	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
)

// buildServer builds the wormvault binary into dir.
func buildServer(dir string) (string, error) {
	bin := filepath.Join(dir, "wormvault")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/wormvault/wormvault/cmd/wormvault").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
}

// serverFlags are the flags of every start: small erasure blocks and inline
// threshold so small archives exercise both paths, and a short access-log
// delivery interval so deliveries happen during a run.
var serverFlags = []string{
	"--log-level", "warn",
	"--inline-threshold", "16384",
	"--block-size", "65536",
	"--access-log-interval", "100ms",
	"--scrub-interval", "0",
	"--shutdown-grace", "2s",
}

// quietFlags turn access-log delivery off in effect, so the server writes
// nothing to the drives unless asked.
var quietFlags = []string{"--access-log-interval", "1h"}

// process is one run of `wormvault serve` as an OS process.
type process struct {
	cmd    *exec.Cmd
	addr   string
	stderr *syncBuffer
	exited chan struct{} // closed once the process has exited
	state  *os.ProcessState
}

// syncBuffer collects a process's stderr.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// startServer starts the server on data with extra flags and waits until it
// answers health checks. It fails if the process exits first.
func startServer(t *testing.T, bin, data string, extra ...string) *process {
	t.Helper()
	p := launch(t, bin, data, extra...)
	if err := p.waitServing(); err != nil {
		t.Fatal(err)
	}
	return p
}

// launch starts the server process; the test's end kills it.
func launch(t *testing.T, bin, data string, extra ...string) *process {
	t.Helper()
	addr, err := freeAddr()
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{"serve", "--data", data, "--listen", addr}, serverFlags...)
	p := &process{cmd: exec.Command(bin, append(args, extra...)...), addr: addr, stderr: &syncBuffer{}, exited: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = io.Discard, p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.cmd.Wait()
		p.state = p.cmd.ProcessState
		close(p.exited)
	}()
	t.Cleanup(func() { p.kill() })
	return p
}

// errExited means the process exited before it served.
var errExited = errors.New("server exited before serving")

// waitServing waits until the server answers health checks.
func (p *process) waitServing() error {
	// Retry the connection quickly: gRPC's default backoff waits a second
	// after the first refused dial, longer than a start takes.
	cc, err := grpc.NewClient(p.addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithConnectParams(grpc.ConnectParams{Backoff: backoff.Config{BaseDelay: 10 * time.Millisecond, Multiplier: 1.2, MaxDelay: 50 * time.Millisecond}, MinConnectTimeout: time.Second}))
	if err != nil {
		return err
	}
	defer cc.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		resp, err := healthpb.NewHealthClient(cc).Check(ctx, &healthpb.HealthCheckRequest{})
		cancel()
		if err == nil && resp.GetStatus() == healthpb.HealthCheckResponse_SERVING {
			return nil
		}
		if p.dead(0) {
			return fmt.Errorf("%w (%v):\n%s", errExited, p.state, p.stderr)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("server did not become healthy: %v\n%s", err, p.stderr)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// kill ends the process with SIGKILL, if it still runs, and waits for it.
func (p *process) kill() {
	select {
	case <-p.exited:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
}

// stop shuts the process down gracefully, or kills it after a while.
func (p *process) stop(t *testing.T) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		if !p.state.Success() {
			t.Errorf("server exited with %v on SIGTERM:\n%s", p.state, p.stderr)
		}
	case <-time.After(15 * time.Second):
		t.Errorf("server did not stop within 15s of SIGTERM")
		p.kill()
	}
}

// killedBySIGKILL reports whether the process died of SIGKILL.
func (p *process) killedBySIGKILL() bool {
	ws, ok := p.state.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}

// dead reports whether the process exits within d.
func (p *process) dead(d time.Duration) bool {
	select {
	case <-p.exited:
		return true
	default:
	}
	if d <= 0 {
		return false
	}
	select {
	case <-p.exited:
		return true
	case <-time.After(d):
		return false
	}
}

// rootToken reads the root token a first start saved.
func rootToken(data string) (string, error) {
	f, err := os.Open(filepath.Join(data, "root.credentials"))
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" && !strings.HasPrefix(l, "#") {
			return l, nil
		}
	}
	return "", errors.New("no token in root.credentials")
}

// client is a root connection to one process.
type client struct {
	cc       *grpc.ClientConn
	token    string
	vaults   wormvaultv1.VaultServiceClient
	archives wormvaultv1.ArchiveServiceClient
	locks    wormvaultv1.LockServiceClient
	audit    wormvaultv1.AuditServiceClient
	admin    wormvaultv1.AdminServiceClient
}

func dial(t *testing.T, p *process, data string) *client {
	t.Helper()
	token, err := rootToken(data)
	if err != nil {
		t.Fatal(err)
	}
	cc, err := grpc.NewClient(p.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	return &client{
		cc:       cc,
		token:    token,
		vaults:   wormvaultv1.NewVaultServiceClient(cc),
		archives: wormvaultv1.NewArchiveServiceClient(cc),
		locks:    wormvaultv1.NewLockServiceClient(cc),
		audit:    wormvaultv1.NewAuditServiceClient(cc),
		admin:    wormvaultv1.NewAdminServiceClient(cc),
	}
}

// ctx returns a context with the root token that ends with parent or
// after 30s.
func (c *client) ctx(parent context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(parent, 30*time.Second)
	return metadata.NewOutgoingContext(ctx, metadata.Pairs("authorization", "Bearer "+c.token)), cancel
}

// upload streams data after h in 32 KiB chunks.
func (c *client) upload(parent context.Context, h *wormvaultv1.ArchiveHeader, data []byte) (*wormvaultv1.Archive, error) {
	ctx, cancel := c.ctx(parent)
	defer cancel()
	st, err := c.archives.UploadArchive(ctx)
	if err != nil {
		return nil, err
	}
	if err := st.Send(&wormvaultv1.UploadArchiveRequest{Data: &wormvaultv1.UploadArchiveRequest_Header{Header: h}}); err != nil {
		_, err = st.CloseAndRecv()
		return nil, err
	}
	for off := 0; off < len(data); off += 32 << 10 {
		chunk := data[off:min(len(data), off+32<<10)]
		if err := st.Send(&wormvaultv1.UploadArchiveRequest{Data: &wormvaultv1.UploadArchiveRequest_Chunk{Chunk: chunk}}); err != nil {
			break // the stream ended: CloseAndRecv says why
		}
	}
	resp, err := st.CloseAndRecv()
	if err != nil {
		return nil, err
	}
	return resp.GetArchive(), nil
}

// download reads a whole version.
func (c *client) download(parent context.Context, vault, key, versionID string) (*wormvaultv1.Archive, []byte, error) {
	ctx, cancel := c.ctx(parent)
	defer cancel()
	st, err := c.archives.DownloadArchive(ctx, &wormvaultv1.DownloadArchiveRequest{Vault: vault, Key: key, VersionId: versionID})
	if err != nil {
		return nil, nil, err
	}
	first, err := st.Recv()
	if err != nil {
		return nil, nil, err
	}
	a := first.GetArchive()
	if a == nil {
		return nil, nil, errors.New("the first download message is not the archive")
	}
	var buf bytes.Buffer
	for {
		m, err := st.Recv()
		if err == io.EOF {
			return a, buf.Bytes(), nil
		}
		if err != nil {
			return a, nil, err
		}
		buf.Write(m.GetChunk())
	}
}

// listAll lists every version of vault under prefix.
func (c *client) listAll(parent context.Context, vault, prefix string) ([]*wormvaultv1.Archive, error) {
	var out []*wormvaultv1.Archive
	token := ""
	for {
		ctx, cancel := c.ctx(parent)
		resp, err := c.archives.ListArchives(ctx, &wormvaultv1.ListArchivesRequest{Vault: vault, Prefix: prefix, AllVersions: true, PageSize: 1000, PageToken: token})
		cancel()
		if err != nil {
			return nil, err
		}
		out = append(out, resp.GetArchives()...)
		if token = resp.GetNextPageToken(); token == "" {
			return out, nil
		}
	}
}

// heal runs AdminService.Heal on vault to the end.
func (c *client) heal(parent context.Context, vault string) error {
	ctx, cancel := c.ctx(parent)
	defer cancel()
	st, err := c.admin.Heal(ctx, &wormvaultv1.HealRequest{Vault: vault})
	if err != nil {
		return err
	}
	for {
		if _, err := st.Recv(); err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
	}
}
