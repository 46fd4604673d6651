package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
)

// encryptionBench appends the figure of a large upload with SERVICE
// encryption (every archive's default) next to the same upload stored
// unencrypted, which only a server started with --allow-unencrypted
// accepts: its own server, two vaults whose defaults differ, uploads
// alternating twice so the machine's drift hits both alike.
func encryptionBench(dir string, size int64, rows []row) ([]row, error) {
	label := fmt.Sprintf("%d MiB", size>>20)
	if size >= 1<<30 {
		label = fmt.Sprintf("%d GiB", size>>30)
	}
	fmt.Fprintf(os.Stderr, "== %s upload, SERVICE encryption vs none\n", label)
	edir := filepath.Join(dir, "encryption")
	if err := os.MkdirAll(edir, 0o700); err != nil {
		return rows, err
	}
	srv, err := startServer(edir, "--allow-unencrypted")
	if err != nil {
		return rows, err
	}
	defer srv.stop()
	c, err := dialServer(srv)
	if err != nil {
		return rows, err
	}
	defer c.cc.Close()
	modes := []struct {
		vault string
		mode  wormvaultv1.EncryptionMode
		took  time.Duration
	}{
		{vault: "enc-service", mode: wormvaultv1.EncryptionMode_ENCRYPTION_MODE_SERVICE},
		{vault: "enc-none", mode: wormvaultv1.EncryptionMode_ENCRYPTION_MODE_NONE},
	}
	for _, m := range modes {
		if _, err := c.vaults.CreateVault(c.ctx(), &wormvaultv1.CreateVaultRequest{Name: m.vault, DefaultEncryption: &wormvaultv1.EncryptionInfo{Mode: m.mode}}); err != nil {
			return rows, err
		}
	}
	for round := range 2 {
		for i := range modes {
			d, err := timeIt(func() error { return c.upload(modes[i].vault, fmt.Sprintf("big-%d", round), size) })
			if err != nil {
				return rows, err
			}
			modes[i].took += d
		}
	}
	return append(rows, row{name: "upload " + label + ", 1 stream, SERVICE encryption", unit: "MB/s",
		ours: mbps(2*size, modes[0].took), ref: mbps(2*size, modes[1].took), refName: "same run, unencrypted (target >= 0.70x)"}), nil
}
