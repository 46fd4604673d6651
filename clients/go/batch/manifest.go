package batch

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/wormvault/wormvault"
)

// Item is one file of a batch and how to store it.
type Item struct {
	// Path is the file to read.
	Path string
	// Key is the archive key it is stored under.
	Key string
	// Retention overrides Config.Retention for this file: a spec as
	// ParseRetention reads it; empty means the batch default.
	Retention string
	// LegalHold overrides Config.LegalHold when not nil.
	LegalHold *bool
	// ContentType overrides Config.ContentType when not empty.
	ContentType string
}

// manifestColumns are the columns a manifest may have; path is required.
var manifestColumns = []string{"path", "key", "retention", "legal_hold", "content_type"}

// ParseManifest reads a CSV manifest: a header row naming some of the
// columns path, key, retention, legal_hold, content_type (path required, any
// order), then one row per file. Empty cells take the batch defaults; an empty
// key becomes prefix + the path made relative to baseDir with slashes.
// Relative paths are relative to baseDir (the manifest's directory).
func ParseManifest(r io.Reader, baseDir, prefix string) ([]Item, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = false
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, errors.New("batch: manifest is empty: want a header row path,key,retention,legal_hold,content_type")
	}
	if err != nil {
		return nil, fmt.Errorf("batch: manifest header: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		known := false
		for _, c := range manifestColumns {
			known = known || c == h
		}
		if !known {
			return nil, fmt.Errorf("batch: manifest header: unknown column %q (want %s)", h, strings.Join(manifestColumns, ","))
		}
		if _, dup := col[h]; dup {
			return nil, fmt.Errorf("batch: manifest header: column %q given twice", h)
		}
		col[h] = i
	}
	if _, ok := col["path"]; !ok {
		return nil, fmt.Errorf("batch: manifest header: no path column (want %s)", strings.Join(manifestColumns, ","))
	}
	cell := func(rec []string, name string) string {
		if i, ok := col[name]; ok && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	var items []Item
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			return nil, fmt.Errorf("batch: manifest: %w", err)
		}
		if len(rec) > len(header) {
			return nil, fmt.Errorf("batch: manifest line %d: %d fields, header has %d", line, len(rec), len(header))
		}
		it := Item{Path: cell(rec, "path"), Key: cell(rec, "key"), Retention: cell(rec, "retention"), ContentType: cell(rec, "content_type")}
		if it.Path == "" {
			return nil, fmt.Errorf("batch: manifest line %d: empty path", line)
		}
		if !filepath.IsAbs(it.Path) {
			it.Path = filepath.Join(baseDir, it.Path)
		}
		if it.Key == "" {
			rel, err := filepath.Rel(baseDir, it.Path)
			if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
				return nil, fmt.Errorf("batch: manifest line %d: path %s is outside %s: give its key", line, it.Path, baseDir)
			}
			it.Key = prefix + filepath.ToSlash(rel)
		}
		if err := wormvault.ValidateKey("key", it.Key); err != nil {
			return nil, fmt.Errorf("batch: manifest line %d: %w", line, err)
		}
		if it.Retention != "" {
			if _, _, err := ParseRetention(it.Retention, time.Now()); err != nil {
				return nil, fmt.Errorf("batch: manifest line %d: %w", line, err)
			}
		}
		if s := cell(rec, "legal_hold"); s != "" {
			b, err := parseBool(s)
			if err != nil {
				return nil, fmt.Errorf("batch: manifest line %d: legal_hold %q: want true or false", line, s)
			}
			it.LegalHold = &b
		}
		items = append(items, it)
	}
	if err := checkDistinct(items); err != nil {
		return nil, err
	}
	return items, nil
}

func parseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "yes", "y":
		return true, nil
	case "no", "n":
		return false, nil
	}
	return strconv.ParseBool(s)
}

// checkDistinct refuses two items with the same path or the same key: one
// file uploaded twice, or two files racing to be the latest version of a
// key, is never what a batch means.
func checkDistinct(items []Item) error {
	paths := make(map[string]bool, len(items))
	keys := make(map[string]string, len(items))
	for _, it := range items {
		if paths[it.Path] {
			return fmt.Errorf("batch: %s is listed twice", it.Path)
		}
		paths[it.Path] = true
		if other, dup := keys[it.Key]; dup {
			return fmt.Errorf("batch: %s and %s both map to key %q", other, it.Path, it.Key)
		}
		keys[it.Key] = it.Path
	}
	return nil
}

// Walk lists the regular files under dir, in lexical order, each keyed by
// prefix + its slash-separated path relative to dir. Symbolic links to files
// are followed; symbolic links to directories are not (no cycles). Paths in
// exclude (the batch's own receipt and journal) are left out. A directory or
// file that cannot be listed or stat'ed is an error: a batch that silently
// skipped files would be a false receipt.
func Walk(dir, prefix string, exclude ...string) ([]Item, error) {
	skip := make(map[string]bool, len(exclude))
	for _, e := range exclude {
		if abs, err := filepath.Abs(e); err == nil {
			skip[abs] = true
		}
	}
	var items []Item
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		if abs, err := filepath.Abs(p); err == nil && skip[abs] {
			return nil
		}
		if d.Type()&fs.ModeSymlink != 0 {
			fi, err := os.Stat(p)
			if err != nil {
				return err
			}
			if !fi.Mode().IsRegular() {
				return nil
			}
		} else if !d.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		items = append(items, Item{Path: p, Key: prefix + filepath.ToSlash(rel)})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("batch: walking %s: %w", dir, err)
	}
	for _, it := range items {
		if err := wormvault.ValidateKey("key", it.Key); err != nil {
			return nil, fmt.Errorf("batch: %s: %w", it.Path, err)
		}
	}
	return items, nil
}

// ParseRetention reads a retention spec relative to anchor: "MODE:PERIOD"
// (governance:30d, compliance:7y: retain until anchor + period),
// "MODE:TIME" (an RFC 3339 retain-until), or "default" (no explicit
// retention: the vault's default applies). set is false for "default".
func ParseRetention(spec string, anchor time.Time) (r wormvault.Retention, set bool, err error) {
	spec = strings.TrimSpace(spec)
	if strings.EqualFold(spec, "default") {
		return r, false, nil
	}
	mode, rest, ok := strings.Cut(spec, ":")
	if !ok {
		return r, false, fmt.Errorf("batch: retention %q: want MODE:PERIOD (compliance:7y), MODE:RFC3339-TIME or default", spec)
	}
	if t, terr := time.Parse(time.RFC3339, rest); terr == nil {
		m, err := wormvault.ParseRetentionMode(mode)
		if err != nil {
			return r, false, fmt.Errorf("batch: retention %q: %w", spec, err)
		}
		return wormvault.Retention{Mode: m, RetainUntil: t.UTC()}, true, nil
	}
	d, err := wormvault.ParseRetentionSpec(spec)
	if err != nil {
		return r, false, fmt.Errorf("batch: %w", err)
	}
	return wormvault.Retention{Mode: d.Mode, RetainUntil: d.Until(anchor.UTC())}, true, nil
}
