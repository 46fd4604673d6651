package server_test

import (
	"bytes"
	"fmt"
	"sync/atomic"
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

// BenchmarkSmallUpload uploads 4 KiB archives from 16 goroutines into a
// vault with access logging off and on; make bench compares the two rates.
func BenchmarkSmallUpload(b *testing.B) {
	for _, logging := range []bool{false, true} {
		b.Run(fmt.Sprintf("logging=%t", logging), func(b *testing.B) {
			s := servertest.Start(b)
			c := dial(b, s)
			c.createVault("src")
			c.createVault("logs")
			if logging {
				if err := c.setLogging("src", "logs", ""); err != nil {
					b.Fatal(err)
				}
			}
			data := bytes.Repeat([]byte("x"), 4096)
			var n atomic.Int64
			b.SetParallelism(8) // 16 streams on 2 cores
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					h := &wormvaultv1.ArchiveHeader{Vault: "src", Key: fmt.Sprintf("k%d", n.Add(1))}
					if _, err := c.upload(h, bytes.NewReader(data), 4096); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
