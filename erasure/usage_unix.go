//go:build linux || darwin

package erasure

import "syscall"

func diskUsage(path string) (DriveUsage, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return DriveUsage{}, err
	}
	bs := uint64(st.Bsize)
	return DriveUsage{TotalBytes: uint64(st.Blocks) * bs, FreeBytes: uint64(st.Bavail) * bs}, nil
}
