package journal

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// dirOps is what the journal does to one drive's journal directory. osDir
// implements it; tests wrap it to inject faults.
type dirOps interface {
	// mkdir creates the directory (and parents) durably if missing.
	mkdir() error
	// list returns the names of the files in the directory; a missing
	// directory has none.
	list() ([]string, error)
	// open opens a file for reading and returns its size.
	open(name string) (io.ReadCloser, int64, error)
	// create creates a new file (never an existing one) for appending.
	create(name string) (segFile, error)
	// openAppend opens an existing file for appending.
	openAppend(name string) (segFile, error)
	// truncate cuts a file to size and makes that durable.
	truncate(name string, size int64) error
	// remove removes a file and makes that durable.
	remove(name string) error
	// syncDir makes created and removed entries durable.
	syncDir() error
}

// segFile is a segment open for appending.
type segFile interface {
	Write([]byte) (int, error)
	Sync() error
	Close() error
}

type osDir string

func (d osDir) path(name string) string { return filepath.Join(string(d), name) }

func (d osDir) mkdir() error {
	if fi, err := os.Stat(string(d)); err == nil {
		if !fi.IsDir() {
			return fmt.Errorf("%s is not a directory", d)
		}
		return nil
	}
	parent := filepath.Dir(string(d))
	if err := os.MkdirAll(parent, 0o750); err != nil {
		return err
	}
	if err := os.Mkdir(string(d), 0o750); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return syncPath(parent)
}

func (d osDir) list() ([]string, error) {
	ents, err := os.ReadDir(string(d))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(ents))
	for _, e := range ents {
		if e.Type().IsRegular() {
			names = append(names, e.Name())
		}
	}
	return names, nil
}

func (d osDir) open(name string) (io.ReadCloser, int64, error) {
	f, err := os.Open(d.path(name))
	if err != nil {
		return nil, 0, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, fi.Size(), nil
}

func (d osDir) create(name string) (segFile, error) {
	return os.OpenFile(d.path(name), os.O_WRONLY|os.O_APPEND|os.O_CREATE|os.O_EXCL, 0o640)
}

func (d osDir) openAppend(name string) (segFile, error) {
	return os.OpenFile(d.path(name), os.O_WRONLY|os.O_APPEND, 0)
}

func (d osDir) truncate(name string, size int64) error {
	f, err := os.OpenFile(d.path(name), os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	err = f.Truncate(size)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func (d osDir) remove(name string) error {
	if err := os.Remove(d.path(name)); err != nil {
		return err
	}
	return d.syncDir()
}

func (d osDir) syncDir() error { return syncPath(string(d)) }

// syncPath fsyncs a directory, making entries created or removed in it
// durable.
func syncPath(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
