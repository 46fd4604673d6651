package server_test

import (
	"bufio"
	"context"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
	"github.com/wormvault/wormvault/server/servertest"
)

// process is a wormvault server running as its own OS process, so a test
// can kill -9 it.
type process struct {
	t    *testing.T
	bin  string
	data string
	addr string
	cmd  *exec.Cmd
}

func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "wormvault")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/wormvault/wormvault/cmd/wormvault").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func (p *process) start() {
	p.t.Helper()
	p.cmd = exec.Command(p.bin, "serve", "--data", p.data, "--listen", p.addr, "--log-level", "warn")
	p.cmd.Stdout, p.cmd.Stderr = os.Stderr, os.Stderr
	if err := p.cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	p.t.Cleanup(func() { p.cmd.Process.Kill(); p.cmd.Wait() })
	cc, err := grpc.NewClient(p.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		p.t.Fatal(err)
	}
	defer cc.Close()
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		resp, err := healthpb.NewHealthClient(cc).Check(ctx, &healthpb.HealthCheckRequest{})
		cancel()
		if err == nil && resp.GetStatus() == healthpb.HealthCheckResponse_SERVING {
			return
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("server did not become healthy: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (p *process) kill9() {
	p.cmd.Process.Signal(syscall.SIGKILL)
	p.cmd.Wait()
}

func (p *process) token() string {
	f, err := os.Open(filepath.Join(p.data, "root.credentials"))
	if err != nil {
		p.t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" && !strings.HasPrefix(l, "#") {
			return l
		}
	}
	p.t.Fatal("no token in root.credentials")
	return ""
}

// shardFiles lists the files under every drive's shards/ and tmp/.
func shardFiles(t *testing.T, data string) (shards, temps []string) {
	filepath.WalkDir(filepath.Join(data, "drives"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(data, p)
		if strings.Contains(rel, string(filepath.Separator)+"tmp"+string(filepath.Separator)) {
			temps = append(temps, rel)
		} else {
			shards = append(shards, rel)
		}
		return nil
	})
	return shards, temps
}

// TestKillDuringUpload kills the server with SIGKILL in the middle of a
// 1 GiB upload. After restart the interrupted version must not exist, its
// shards must be gone, and every earlier archive must read bit-exact.
func TestKillDuringUpload(t *testing.T) {
	p := &process{t: t, bin: buildBinary(t), data: t.TempDir(), addr: freeAddr(t)}
	p.start()
	c := dial(t, &servertest.Server{Addr: p.addr, Token: p.token()})
	c.createVault("crash")
	earlier := map[string][]byte{}
	for i, size := range []int{0, 1, 1 << 20, 3<<20 + 5} {
		key := "earlier/" + string(rune('a'+i))
		earlier[key] = randomBytes(uint64(100+i), size)
		c.put("crash", key, earlier[key])
	}
	shardsBefore, _ := shardFiles(t, p.data)

	// Stream a 1 GiB upload and kill the server once ~200 MiB are in.
	ctx, cancel := context.WithCancel(c.ctx())
	defer cancel()
	st, err := c.archives.UploadArchive(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Send(&wormvaultv1.UploadArchiveRequest{Data: &wormvaultv1.UploadArchiveRequest_Header{Header: &wormvaultv1.ArchiveHeader{Vault: "crash", Key: "interrupted"}}}); err != nil {
		t.Fatal(err)
	}
	src := newPRNGReader(9, 1<<30)
	buf := make([]byte, 1<<20)
	for sent := 0; sent < 200; sent++ {
		io.ReadFull(src, buf)
		if err := st.Send(&wormvaultv1.UploadArchiveRequest{Data: &wormvaultv1.UploadArchiveRequest_Chunk{Chunk: buf}}); err != nil {
			t.Fatalf("send chunk %d: %v", sent, err)
		}
	}
	p.kill9()
	if _, err := st.CloseAndRecv(); err == nil {
		t.Fatal("the interrupted upload was acknowledged")
	}
	_, temps := shardFiles(t, p.data)
	if len(temps) == 0 {
		t.Log("note: no temp shard files were on disk at the kill")
	}

	p.start()
	c = dial(t, &servertest.Server{Addr: p.addr, Token: p.token()})
	l, err := c.archives.ListArchives(c.ctx(), &wormvaultv1.ListArchivesRequest{Vault: "crash", AllVersions: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(l.GetArchives()) != len(earlier) {
		t.Fatalf("after restart %d versions are visible, want the %d earlier ones", len(l.GetArchives()), len(earlier))
	}
	for _, a := range l.GetArchives() {
		if a.GetKey() == "interrupted" {
			t.Fatal("the interrupted upload is visible")
		}
	}
	shardsAfter, tempsAfter := shardFiles(t, p.data)
	if len(tempsAfter) != 0 {
		t.Fatalf("temp files survive the startup cleanup: %v", tempsAfter)
	}
	if strings.Join(shardsAfter, "\n") != strings.Join(shardsBefore, "\n") {
		t.Fatalf("shard files differ from before the crash:\nbefore %v\nafter %v", shardsBefore, shardsAfter)
	}
	for key, data := range earlier {
		if got := c.get("crash", key, ""); string(got) != string(data) {
			t.Fatalf("%s: reads %d bytes that differ from the %d uploaded", key, len(got), len(data))
		}
	}
}
