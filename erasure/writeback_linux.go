//go:build linux && !arm

package erasure

import (
	"os"
	"syscall"
)

const syncFileRangeWrite = 0x2 // SYNC_FILE_RANGE_WRITE

// startWriteback asks the kernel to start writing [off, off+n) of f to disk
// without waiting, so the fsync at commit finds little left to do and disk
// writes overlap the encoding of later stripes. Errors are ignored: the
// fsync at commit is what guarantees durability.
func startWriteback(f *os.File, off, n int64) {
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	rc.Control(func(fd uintptr) { syscall.SyncFileRange(int(fd), off, n, syncFileRangeWrite) })
}
