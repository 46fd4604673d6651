package soak

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// serverProc is `wormvault serve` as a child process, restartable over the
// same data and address.
type serverProc struct {
	bin, data, addr string
	drives          []string
	logPath         string
	token           string

	mu      sync.Mutex
	cmd     *exec.Cmd
	exited  chan struct{} // closed when cmd has been waited for
	waitErr error
	peakKiB int64 // highest VmHWM seen over every process
	starts  int
}

// buildServer builds cmd/wormvault (without the race detector: the soak
// measures the server, the test process is the one being raced) into dir.
func buildServer(ctx context.Context, dir string) (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "wormvault")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/wormvault")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("soak: build server: %v\n%s", err, out)
	}
	return bin, nil
}

// moduleRoot finds the wormvault module's directory from the working
// directory up.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("soak: go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("soak: not inside the wormvault module")
	}
	return filepath.Dir(mod), nil
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func newServerProc(bin, work string) (*serverProc, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	p := &serverProc{bin: bin, data: filepath.Join(work, "data"), addr: addr, logPath: filepath.Join(work, "server.log")}
	for i := range drives {
		p.drives = append(p.drives, filepath.Join(work, "drives", fmt.Sprintf("d%d", i+1)))
	}
	return p, nil
}

func (p *serverProc) args() []string {
	a := []string{"serve", "--data", p.data, "--listen", p.addr, "--log-level", "warn",
		"--data-shards", strconv.Itoa(dataShards), "--parity-shards", strconv.Itoa(parityShards),
		"--inline-threshold", strconv.Itoa(inlineThreshold), "--shutdown-grace", "10s"}
	for _, d := range p.drives {
		a = append(a, "--drive", d)
	}
	return a
}

// start starts the server and waits until it answers health checks.
func (p *serverProc) start(ctx context.Context) error {
	logf, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(p.bin, p.args()...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("soak: start server: %w", err)
	}
	exited := make(chan struct{})
	p.mu.Lock()
	p.cmd, p.exited = cmd, exited
	p.starts++
	p.mu.Unlock()
	go func() {
		err := cmd.Wait()
		p.mu.Lock()
		p.waitErr = err
		p.mu.Unlock()
		close(exited)
	}()
	if p.token == "" {
		if err := p.readToken(ctx, exited); err != nil {
			return err
		}
	}
	return p.waitHealthy(ctx, exited)
}

// readToken waits for the first start to write the root credentials.
func (p *serverProc) readToken(ctx context.Context, exited <-chan struct{}) error {
	path := filepath.Join(p.data, "root.credentials")
	for {
		if b, err := os.ReadFile(path); err == nil {
			sc := bufio.NewScanner(bytes.NewReader(b))
			for sc.Scan() {
				if l := strings.TrimSpace(sc.Text()); l != "" && !strings.HasPrefix(l, "#") {
					p.token = l
				}
			}
			if p.token != "" {
				return nil
			}
		}
		if err := p.pause(ctx, exited); err != nil {
			return fmt.Errorf("soak: server wrote no credentials: %w", err)
		}
	}
}

func (p *serverProc) waitHealthy(ctx context.Context, exited <-chan struct{}) error {
	cc, err := grpc.NewClient(p.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer cc.Close()
	hc := healthpb.NewHealthClient(cc)
	for {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		r, err := hc.Check(cctx, &healthpb.HealthCheckRequest{})
		cancel()
		if err == nil && r.GetStatus() == healthpb.HealthCheckResponse_SERVING {
			return nil
		}
		if err := p.pause(ctx, exited); err != nil {
			return fmt.Errorf("soak: server not healthy: %w", err)
		}
	}
}

// pause waits a little, failing if the server exited or ctx ended.
func (p *serverProc) pause(ctx context.Context, exited <-chan struct{}) error {
	select {
	case <-exited:
		return fmt.Errorf("server exited (%v); its log: %s", p.exitErr(), p.logPath)
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(50 * time.Millisecond):
		return nil
	}
}

func (p *serverProc) exitErr() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.waitErr
}

// running returns the current process and its exit channel.
func (p *serverProc) running() (*exec.Cmd, chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cmd, p.exited
}

// kill9 kills the server with SIGKILL and waits until it is gone.
func (p *serverProc) kill9() {
	cmd, exited := p.running()
	p.sampleHWM()
	cmd.Process.Signal(syscall.SIGKILL)
	<-exited
}

// stop shuts the server down with SIGTERM and reports how it exited.
func (p *serverProc) stop() error {
	cmd, exited := p.running()
	if cmd == nil {
		return nil
	}
	select {
	case <-exited:
		return fmt.Errorf("soak: the server had exited (%v); its log: %s", p.exitErr(), p.logPath)
	default:
	}
	p.sampleHWM()
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(time.Minute):
		cmd.Process.Signal(syscall.SIGKILL)
		<-exited
		return fmt.Errorf("soak: the server did not stop within a minute of SIGTERM; its log: %s", p.logPath)
	}
	if err := p.exitErr(); err != nil {
		return fmt.Errorf("soak: the server exited with %v after SIGTERM; its log: %s", err, p.logPath)
	}
	return nil
}

// sampleHWM folds the running server's VmHWM (peak RSS) into peakKiB.
func (p *serverProc) sampleHWM() {
	cmd, _ := p.running()
	if cmd == nil || cmd.Process == nil {
		return
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid))
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			if kib, err := strconv.ParseInt(f[1], 10, 64); err == nil {
				p.mu.Lock()
				p.peakKiB = max(p.peakKiB, kib)
				p.mu.Unlock()
			}
		}
	}
}

// sampleHWMEvery samples VmHWM until ctx ends.
func (p *serverProc) sampleHWMEvery(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			p.sampleHWM()
		}
	}
}

func (p *serverProc) peakRSS() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.peakKiB << 10
}
