package main

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
)

// The batch benchmark: `wormvault batch put` of batchFiles files of
// batchFileSize each, as a user runs it (the CLI binary, a directory tree,
// the journal and the receipt), with each --parallel in batchParallel.
const (
	batchFiles    = 10000
	batchFileSize = 16 << 10
	batchVault    = "bench-batch"
)

var batchParallel = []int{1, 4, 16}

// appendBatchRows measures batch put throughput in archives/s against the
// running server and appends one row per --parallel: --parallel 1 next to
// MinIO's one-stream small PUT figure, the others next to --parallel 1 of the
// same run (how the batch scales).
func appendBatchRows(rows []row, dir string, srv *server, c *client) ([]row, error) {
	return appendBatchRowsN(rows, dir, srv, c, batchFiles)
}

func appendBatchRowsN(rows []row, dir string, srv *server, c *client, files int) ([]row, error) {
	fmt.Fprintf(os.Stderr, "== wormvault batch put of %d x %d KiB files, --parallel %v\n", files, batchFileSize>>10, batchParallel)
	tree := filepath.Join(dir, "batch-tree")
	if err := writeBatchTree(tree, files); err != nil {
		return rows, err
	}
	defer os.RemoveAll(tree)
	if _, err := c.vaults.CreateVault(c.ctx(), &wormvaultv1.CreateVaultRequest{Name: batchVault}); err != nil {
		return rows, err
	}
	var first float64
	for _, p := range batchParallel {
		receipt := filepath.Join(dir, fmt.Sprintf("batch-p%d.json", p))
		d, err := timeIt(func() error {
			cmd := exec.Command(srv.cmd.Path, "batch", "put", "--vault", batchVault, tree, "--prefix", fmt.Sprintf("p%d/", p),
				"--parallel", fmt.Sprint(p), "--receipt", receipt, "--progress-every", "0")
			cmd.Env = append(os.Environ(), "WORMVAULT_SERVER="+srv.addr, "WORMVAULT_TOKEN="+srv.token)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if out, err := cmd.Output(); err != nil {
				return fmt.Errorf("batch put --parallel %d: %v\n%s%s", p, err, out, stderr.Bytes())
			}
			return nil
		})
		if err != nil {
			return rows, err
		}
		rate := float64(files) / d.Seconds()
		r := row{name: fmt.Sprintf("%d x 16 KiB batch put, --parallel %d", files, p), unit: "archives/s", ours: rate}
		if p == 1 {
			first = rate
			r.ref, r.refName = minioSmall1, "MinIO 4 KiB PUT, 1 stream"
		} else {
			r.ref, r.refName = first, "same run, --parallel 1"
		}
		rows = append(rows, r)
	}
	return rows, nil
}

// writeBatchTree writes the benchmark's files, 100 to a directory.
func writeBatchTree(root string, files int) error {
	buf := make([]byte, batchFileSize)
	start := time.Now()
	for i := range files {
		p := filepath.Join(root, fmt.Sprintf("d%03d", i/100), fmt.Sprintf("f%05d.bin", i))
		if i%100 == 0 {
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return err
			}
		}
		rand.Read(buf)
		if err := os.WriteFile(p, buf, 0o644); err != nil {
			return err
		}
	}
	fmt.Fprintf(os.Stderr, "   wrote the tree in %v\n", time.Since(start).Round(time.Millisecond))
	return nil
}
