package soak

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// canMount reports whether this process may mount file systems: it tries a
// tmpfs on a scratch directory once.
var canMount = sync.OnceValue(func() bool {
	if os.Geteuid() != 0 {
		return false
	}
	dir, err := os.MkdirTemp("", "wormvault-soak-mount-")
	if err != nil {
		return false
	}
	defer os.Remove(dir)
	if err := mountTmpfs(dir, 64<<10); err != nil {
		return false
	}
	return unmount(dir) == nil
})

// bindReadOnly mounts dir over itself read-only. Files the server already
// has open stay writable (as on a disk remounted read-only under a running
// process); every new file fails with EROFS.
//
// The mount is made read-only before it is attached (open_tree,
// mount_setattr, move_mount): a bind mount remounted read-only afterwards
// fails with EBUSY whenever the server opened a file for writing through it
// in between. Kernels before 5.12 lack these calls and get the remount,
// retried.
func bindReadOnly(dir string) error {
	fd, err := unix.OpenTree(unix.AT_FDCWD, dir, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
	if err == nil {
		defer unix.Close(fd)
		err = unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH, &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY})
		if err == nil {
			err = unix.MoveMount(fd, "", unix.AT_FDCWD, dir, unix.MOVE_MOUNT_F_EMPTY_PATH)
		}
	}
	if !errors.Is(err, unix.ENOSYS) {
		if err != nil {
			return fmt.Errorf("read-only bind mount of %s: %w", dir, err)
		}
		return nil
	}
	if err := unix.Mount(dir, dir, "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("bind mount %s: %w", dir, err)
	}
	for range 100 {
		err = unix.Mount("", dir, "", unix.MS_REMOUNT|unix.MS_BIND|unix.MS_RDONLY, "")
		if !errors.Is(err, unix.EBUSY) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil {
		unmount(dir)
		return fmt.Errorf("remount %s read-only: %w", dir, err)
	}
	return nil
}

// mountTmpfs mounts a tmpfs of size bytes on dir.
func mountTmpfs(dir string, size int64) error {
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, fmt.Sprintf("size=%d,mode=0750", size)); err != nil {
		return fmt.Errorf("mount tmpfs on %s: %w", dir, err)
	}
	return nil
}

// unmount detaches the mount on dir at once, even while the server holds
// files open in it (they go away when closed).
func unmount(dir string) error {
	if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil {
		return fmt.Errorf("unmount %s: %w", dir, err)
	}
	return nil
}
