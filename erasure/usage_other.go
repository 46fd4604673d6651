//go:build !linux && !darwin

package erasure

// diskUsage is not implemented on this platform: sizes are reported as 0.
func diskUsage(path string) (DriveUsage, error) { return DriveUsage{}, nil }
