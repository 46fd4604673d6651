package server_test

import (
	"bytes"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
	"github.com/wormvault/wormvault/server/servertest"
)

func storageStatus(t *testing.T, c *conn) *wormvaultv1.GetStorageStatusResponse {
	t.Helper()
	st, err := c.admin.GetStorageStatus(c.ctx(), &wormvaultv1.GetStorageStatusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func sum(st *wormvaultv1.GetStorageStatusResponse, f func(*wormvaultv1.DriveStatus) int64) (n int64) {
	for _, d := range st.GetDrives() {
		n += f(d)
	}
	return n
}

func healAll(t *testing.T, c *conn, vault string) *wormvaultv1.HealResponse {
	t.Helper()
	st, err := c.admin.Heal(c.ctx(), &wormvaultv1.HealRequest{Vault: vault})
	if err != nil {
		t.Fatal(err)
	}
	var last *wormvaultv1.HealResponse
	for {
		m, err := st.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		last = m
	}
	if last == nil || !last.GetDone() {
		t.Fatalf("heal did not report completion: %v", last)
	}
	return last
}

// shardPaths lists the shard files of every drive.
func shardPaths(t *testing.T, dataDir string) []string {
	var out []string
	filepath.WalkDir(filepath.Join(dataDir, "drives"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.Contains(p, string(filepath.Separator)+"shards"+string(filepath.Separator)) {
			out = append(out, p)
		}
		return nil
	})
	return out
}

// TestLoseTwoDrives deletes two whole drive directories while the server is
// stopped: reads stay bit-exact, and heal refills the drives so that a
// later read needs no reconstruction.
func TestLoseTwoDrives(t *testing.T) {
	s := servertest.Start(t)
	c := dial(t, s)
	c.createVault("drives")
	archives := map[string][]byte{}
	// All above the inline threshold: this test is about shard files.
	for i, size := range []int{200 << 10, 1<<20 - 1, 5<<20 + 3} {
		key := "k" + string(rune('0'+i))
		archives[key] = randomBytes(uint64(40+i), size)
		c.put("drives", key, archives[key])
	}
	before := len(shardPaths(t, s.DataDir))
	if before != 3*6 {
		t.Fatalf("%d shard files, want 18 (3 archives x 6 drives)", before)
	}

	loseDrives := func() {
		s.Stop()
		for _, d := range []string{"d2", "d5"} {
			if err := os.RemoveAll(filepath.Join(s.DataDir, "drives", d)); err != nil {
				t.Fatal(err)
			}
		}
		s.Restart()
		c = dial(t, s)
	}

	// First: heal before anything reads, so heal does all the work.
	loseDrives()
	h := healAll(t, c, "drives")
	if h.GetArchivesChecked() != 3 || h.GetArchivesHealed() != 3 || h.GetShardsRewritten() != 6 || h.GetArchivesUnrecoverable() != 0 {
		t.Fatalf("heal reported %+v, want 3 checked, 3 healed, 6 shards rewritten", h)
	}
	if after := len(shardPaths(t, s.DataDir)); after != before {
		t.Fatalf("after heal %d shard files, want %d", after, before)
	}
	for key, data := range archives {
		if got := c.get("drives", key, ""); !bytes.Equal(got, data) {
			t.Fatalf("%s: read after heal is not bit-exact", key)
		}
	}
	if rebuilt := sum(storageStatus(t, c), (*wormvaultv1.DriveStatus).GetRebuiltBlocks); rebuilt != 0 {
		t.Fatalf("reads after heal reconstructed %d blocks, want none", rebuilt)
	}

	// Then: read degraded; the reads reconstruct, and queue the archives
	// for the background heal, which refills the drives.
	loseDrives()
	for key, data := range archives {
		if got := c.get("drives", key, ""); !bytes.Equal(got, data) {
			t.Fatalf("%s: degraded read is not bit-exact", key)
		}
	}
	if rebuilt := sum(storageStatus(t, c), (*wormvaultv1.DriveStatus).GetRebuiltBlocks); rebuilt == 0 {
		t.Fatal("reads with two drives gone reported no reconstruction")
	}
	deadline := time.Now().Add(30 * time.Second)
	for len(shardPaths(t, s.DataDir)) != before {
		if time.Now().After(deadline) {
			t.Fatalf("the heal queue did not refill the drives: %d shard files, want %d", len(shardPaths(t, s.DataDir)), before)
		}
		time.Sleep(20 * time.Millisecond)
	}
	h = healAll(t, c, "")
	if h.GetArchivesHealed() != 0 || h.GetArchivesChecked() != 3 {
		t.Fatalf("after the queue healed, a full heal still found work: %+v", h)
	}
}

// TestBitFlip flips one byte of one shard file: the download is still
// bit-exact, and the corruption is counted and healed.
func TestBitFlip(t *testing.T) {
	s := servertest.Start(t)
	c := dial(t, s)
	c.createVault("bitrot")
	data := randomBytes(77, 3<<20+11)
	c.put("bitrot", "victim", data)
	shards := shardPaths(t, s.DataDir)
	victim := shards[0]
	b, err := os.ReadFile(victim)
	if err != nil {
		t.Fatal(err)
	}
	b[100] ^= 0x40 // inside the first block's data
	if err := os.WriteFile(victim, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if got := c.get("bitrot", "victim", ""); !bytes.Equal(got, data) {
		t.Fatal("download after a bit flip is not bit-exact")
	}
	// The read counts the corruption if it read the damaged shard (a data
	// shard); a parity shard is checked by the scrub. Either way it is
	// counted once found, and healed.
	rep, err := c.admin.Scrub(c.ctx(), &wormvaultv1.ScrubRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.GetReport().GetArchivesChecked() != 1 || len(rep.GetReport().GetUnrecoverableArchives()) != 0 {
		t.Fatalf("scrub report %+v", rep.GetReport())
	}
	if n := sum(storageStatus(t, c), (*wormvaultv1.DriveStatus).GetCorruptBlocksFound); n == 0 {
		t.Fatal("the corrupt block was not counted")
	}
	healed, err := os.ReadFile(victim)
	if err != nil {
		t.Fatal(err)
	}
	if healed[100] == b[100] {
		t.Fatal("the flipped byte is still on disk after heal")
	}
	if n := sum(storageStatus(t, c), (*wormvaultv1.DriveStatus).GetBlocksHealed); n == 0 {
		t.Fatal("no healed shard counted")
	}
	reps, err := c.admin.ListFixityReports(c.ctx(), &wormvaultv1.ListFixityReportsRequest{})
	if err != nil || len(reps.GetReports()) != 1 {
		t.Fatalf("fixity reports: %v %v", reps, err)
	}
}
