package server_test

import (
	"testing"

	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
	"github.com/wormvault/wormvault/server/servertest"
)

// BenchmarkUpload streams 256 MiB archives through the real server over
// loopback; make bench has the full report with references.
func BenchmarkUpload(b *testing.B) {
	s := servertest.Start(b)
	c := dial(b, s)
	c.createVault("bench")
	const size = 256 << 20
	b.SetBytes(size)
	for i := 0; b.Loop(); i++ {
		if _, err := c.upload(&wormvaultv1.ArchiveHeader{Vault: "bench", Key: "k"}, newPRNGReader(byte(i), size), 1<<20); err != nil {
			b.Fatal(err)
		}
	}
}
