package batch

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/wormvault/wormvault/internal/atomicfile"
)

// journalFormat is the first field of a journal's header line.
const journalFormat = "wormvault batch journal v1"

// The journal is fsynced once this many lines are pending, or when a line
// comes this long after the last fsync, and on close. A process that is
// killed loses nothing it wrote (the kernel has it); only a machine crash can
// lose the last unsynced lines, and resume adopts those versions instead of
// uploading them again.
const (
	journalSyncLines    = 32
	journalSyncInterval = time.Second
)

// journalHeader is the first line of a journal.
type journalHeader struct {
	Journal string `json:"journal"`
	Vault   string `json:"vault"`
	// Started is when the batch first started: the anchor of relative
	// retentions, kept across resumes.
	Started time.Time `json:"started"`
}

// journalEntry is one committed file: its receipt row plus what resume
// needs to recognise the file unchanged.
type journalEntry struct {
	File
	ModTimeUnixNano int64 `json:"mtime_unix_nano"`
	// Adopted is true when the version was found already committed rather
	// than uploaded by the run that wrote the line.
	Adopted bool `json:"adopted,omitempty"`
}

// journal is an append-only JSON-lines file, safe for concurrent appends.
type journal struct {
	mu       sync.Mutex
	f        *os.File
	pending  int
	lastSync time.Time
}

// createJournal creates a new journal at path with its header, durably.
// It fails if path exists.
func createJournal(path string, h journalHeader) (*journal, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("batch: creating journal: %w", err)
	}
	j := &journal{f: f, lastSync: time.Now()}
	if err := j.writeLine(h); err != nil {
		f.Close()
		return nil, err
	}
	if err := j.sync(); err != nil {
		f.Close()
		return nil, err
	}
	if err := atomicfile.SyncDir(filepath.Dir(path)); err != nil {
		f.Close()
		return nil, fmt.Errorf("batch: journal directory: %w", err)
	}
	return j, nil
}

// openJournal reads the journal at path and reopens it for appending after
// its last complete line, cutting off a torn last line. ok is false (and j
// nil) when there is no journal, or not even a complete header line.
func openJournal(path string) (j *journal, h journalHeader, entries []journalEntry, ok bool, err error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if errors.Is(err, os.ErrNotExist) {
		return nil, h, nil, false, nil
	}
	if err != nil {
		return nil, h, nil, false, fmt.Errorf("batch: opening journal: %w", err)
	}
	h, entries, valid, err := readJournal(f)
	if err != nil {
		f.Close()
		return nil, h, nil, false, fmt.Errorf("batch: journal %s: %w", path, err)
	}
	if valid == 0 {
		f.Close()
		return nil, h, nil, false, nil
	}
	if err := f.Truncate(valid); err != nil {
		f.Close()
		return nil, h, nil, false, fmt.Errorf("batch: journal %s: cutting a torn line: %w", path, err)
	}
	if _, err := f.Seek(valid, io.SeekStart); err != nil {
		f.Close()
		return nil, h, nil, false, err
	}
	return &journal{f: f, lastSync: time.Now()}, h, entries, true, nil
}

// readJournal parses a journal: the header line, then entry lines. A last
// line without its newline was torn by a kill mid-write and is ignored;
// valid is the length of the complete lines (0 when not even the header
// is complete). Any other malformed line is an error: the journal is not
// what this package wrote.
func readJournal(r io.Reader) (h journalHeader, entries []journalEntry, valid int64, err error) {
	br := bufio.NewReader(r)
	for n := 1; ; n++ {
		line, rerr := br.ReadBytes('\n')
		if rerr == io.EOF {
			return h, entries, valid, nil // a torn (or no) last line
		}
		if rerr != nil {
			return h, nil, 0, rerr
		}
		body := bytes.TrimSpace(line)
		if n == 1 {
			dec := json.NewDecoder(bytes.NewReader(body))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&h); err != nil || h.Journal != journalFormat {
				return h, nil, 0, fmt.Errorf("line 1 is not a %q header", journalFormat)
			}
		} else {
			var e journalEntry
			if err := json.Unmarshal(body, &e); err != nil {
				return h, nil, 0, fmt.Errorf("line %d: %w", n, err)
			}
			if e.Path == "" || e.Key == "" || e.VersionID == "" {
				return h, nil, 0, fmt.Errorf("line %d: entry lacks path, key or version_id", n)
			}
			entries = append(entries, e)
		}
		valid += int64(len(line))
	}
}

// append writes e as one line. Each line is one write, so a kill leaves at
// most one torn line at the end.
func (j *journal) append(e journalEntry) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if err := j.writeLine(e); err != nil {
		return err
	}
	j.pending++
	if j.pending >= journalSyncLines || time.Since(j.lastSync) >= journalSyncInterval {
		return j.sync()
	}
	return nil
}

func (j *journal) writeLine(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("batch: journal line: %w", err)
	}
	b = append(b, '\n')
	if _, err := j.f.Write(b); err != nil {
		return fmt.Errorf("batch: writing journal: %w", err)
	}
	return nil
}

// sync fsyncs the journal; j.mu must be held (or j not yet shared).
func (j *journal) sync() error {
	if err := j.f.Sync(); err != nil {
		return fmt.Errorf("batch: syncing journal: %w", err)
	}
	j.pending, j.lastSync = 0, time.Now()
	return nil
}

// close fsyncs and closes the journal.
func (j *journal) close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	serr := j.sync()
	if err := j.f.Close(); err != nil && serr == nil {
		serr = fmt.Errorf("batch: closing journal: %w", err)
	}
	return serr
}
