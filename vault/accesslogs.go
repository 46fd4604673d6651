package vault

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/wormvault/wormvault"
	recordv1 "github.com/wormvault/wormvault/proto/wormvault/record/v1"
	"github.com/wormvault/wormvault/vault/accesslog"
	"github.com/wormvault/wormvault/vault/catalog"
)

// Access logs: a vault's logging setting names a target vault; every
// request against the vault becomes an accesslog.Record that the server
// hands to RecordAccess before it answers, and a delivery loop later writes
// the records, in order, as JSON-lines archives into the target vault.
//
// Durable before acknowledged: RecordAccess returns once the record is
// committed. The records live in a Badger database of their own beside the
// catalog (catalog.AccessLogDB, in DataDir/accesslog): Badger syncs its
// log once per transaction on a single writer, and in the catalog a
// record's commit would wait behind every upload commit queued there.
// The commit is a group commit: the records of concurrent requests go into
// one transaction, one transaction at a time, so records become durable
// and visible in sequence order. The database is encrypted with a random
// key kept in the catalog (which is encrypted under the master key and
// re-keyed with it).
//
// An upload needs no second sync: it writes its record into the catalog
// in its own commit (inboxAccess, catalog's access-log inbox), through the
// AccessNote the server gives each logged call, and the next delivery
// moves it into the database above, where it takes its sequence. Its
// record is as of that commit: its duration ends there.
//
// The records are not protection state: they are not journaled on the
// drives. A catalog rebuilt from the journal no longer has the database's
// key, so the records still waiting are lost then (the directory is moved
// aside, not deleted); delivered ones are archives like any other.
//
// Delivery into the target vaults is in accesslogdelivery.go.

// Logging is a vault's access-log setting: deliver into TargetVault under
// keys starting with Prefix. The zero value means logging is off.
type Logging struct {
	TargetVault string
	Prefix      string
}

// On reports whether logging is on.
func (l Logging) On() bool { return l.TargetVault != "" }

// Sizes of the transactions and archives.
const (
	// maxCommitRecords and half of catalog.MaxAccessLogTxnBytes bound one
	// group-commit transaction; more records waiting take several.
	maxCommitRecords = 1000
	// A delivered archive holds at most maxBatchRecords records, and stops
	// growing once their stored size reaches maxBatchBytes.
	maxBatchRecords = 10000
	maxBatchBytes   = 8 << 20
	// deleteChunk bounds the deletions of one transaction after delivery.
	deleteChunk = 1000
	// moveChunk is how many uploads' records one group commit moves out
	// of the catalog's inbox.
	moveChunk = 256
)

// accessLogs is the Store's access-log state. Its zero value is ready: the
// configuration cache and the sequence load on first use.
type accessLogs struct {
	// configs maps each vault whose logging is on to its setting. It is
	// replaced whole, after every change of a vault's logging, so a request
	// pays one atomic load and a map lookup.
	configs  atomic.Pointer[map[string]Logging]
	reloadMu sync.Mutex
	// inflight orders records with changes of the settings: RecordAccess
	// holds it for reading from reading the setting until its record is
	// committed; a logging change (after its commit) and a vault deletion
	// (around its commit) hold it for writing. So when a change returns,
	// every record made under the old setting is committed, and a vault
	// deletion sees every record still aimed at the vault.
	inflight sync.RWMutex

	// dbMu guards db, opened on first use and closed with the store.
	dbMu sync.Mutex
	db   *catalog.AccessLogDB

	// Group commit: records queue in the open group; one leader at a time
	// commits a whole group, then promotes a waiter of the next.
	mu      sync.Mutex
	open    *commitGroup
	leading bool
	seq     uint64 // last sequence assigned; only the leader touches it
	seqOK   bool

	// deliverMu makes deliveries one at a time.
	deliverMu sync.Mutex
	// afterUpload, when set (tests), runs after a batch's archive is
	// committed and before its records are deleted: a crash there.
	afterUpload func() error
	// moveHook, when set (tests), runs at each step of a move from the
	// catalog's inbox ("moved": records committed, inbox not yet
	// cleared; "cleared": inbox cleared, markers not yet deleted): a
	// crash there.
	moveHook func(step string) error
}

// commitGroup is the records that commit in one transaction, and the
// outcome their callers wait for.
type commitGroup struct {
	recs    []*recordv1.AccessLogRecord
	done    chan struct{}
	promote chan struct{} // one token: the waiter that takes it leads
	err     error
}

// AccessLogging returns the logging setting of vault, from memory.
func (s *Store) AccessLogging(vault string) (Logging, bool) {
	m, err := s.loggingConfigs()
	if err != nil {
		return Logging{}, false
	}
	l, ok := m[vault]
	return l, ok
}

// AccessLoggingOn reports whether any vault's logging is on: when none is,
// the server skips capturing records altogether.
func (s *Store) AccessLoggingOn() bool {
	m, err := s.loggingConfigs()
	return err == nil && len(m) > 0
}

func (s *Store) loggingConfigs() (map[string]Logging, error) {
	if m := s.accessLogs.configs.Load(); m != nil {
		return *m, nil
	}
	return s.reloadLoggingConfigs()
}

// reloadLoggingConfigs reads every vault's logging setting from the
// catalog. Reloads are serialized and each reads after the change that
// caused it committed, so the last one stored is never stale.
func (s *Store) reloadLoggingConfigs() (map[string]Logging, error) {
	s.accessLogs.reloadMu.Lock()
	defer s.accessLogs.reloadMu.Unlock()
	m := map[string]Logging{}
	err := s.catalog.View(func(tx *catalog.Txn) error {
		after := ""
		for {
			vs, err := tx.Vaults(after, 1000)
			if err != nil {
				return err
			}
			for _, v := range vs {
				if l := loggingFromRecord(v.GetLogging()); l.On() {
					m[v.GetName()] = l
				}
			}
			if len(vs) < 1000 {
				return nil
			}
			after = vs[len(vs)-1].GetName()
		}
	})
	if err != nil {
		s.log.Error("could not load vault logging settings", "err", err)
		return nil, err
	}
	s.accessLogs.configs.Store(&m)
	return m, nil
}

// loggingChanged refreshes the cache after a commit that changed a vault's
// logging, once the records made under the old setting are committed.
func (s *Store) loggingChanged() {
	s.accessLogs.inflight.Lock()
	defer s.accessLogs.inflight.Unlock()
	s.reloadLoggingConfigs()
}

func loggingFromRecord(l *recordv1.Logging) Logging {
	return Logging{TargetVault: l.GetTargetVault(), Prefix: l.GetPrefix()}
}

func loggingToRecord(l Logging) *recordv1.Logging {
	if !l.On() {
		return nil
	}
	return &recordv1.Logging{TargetVault: l.TargetVault, Prefix: l.Prefix}
}

// validateLogging checks a logging setting for source before any catalog
// read: names and the prefix, and that a vault does not log into itself
// (its log writes would be requests against it, logged in turn).
func validateLogging(source string, l Logging) error {
	if !l.On() {
		if l.Prefix != "" {
			return wormvault.InvalidArgument("vault.logging.prefix", "a prefix needs a target_vault; an empty target_vault turns logging off")
		}
		return nil
	}
	if err := wormvault.ValidateVaultName("vault.logging.target_vault", l.TargetVault); err != nil {
		return err
	}
	if l.TargetVault == source {
		return wormvault.InvalidArgument("vault.logging.target_vault", "vault %q cannot deliver its access logs into itself: choose another vault", source)
	}
	if l.Prefix != "" {
		if err := wormvault.ValidateKey("vault.logging.prefix", l.Prefix); err != nil {
			return err
		}
		if len(l.Prefix) > accesslog.MaxPrefixLen {
			return wormvault.InvalidArgument("vault.logging.prefix", "at most %d bytes, got %d", accesslog.MaxPrefixLen, len(l.Prefix))
		}
	}
	return nil
}

// checkLoggingTarget checks, inside the UpdateVault transaction, that the
// target exists and that the caller may upload the log archives into it.
func (s *Store) checkLoggingTarget(tx *catalog.Txn, caller Caller, l Logging, now time.Time) error {
	if !l.On() {
		return nil
	}
	target, err := tx.Vault(l.TargetVault)
	if err != nil {
		return fmt.Errorf("logging target: %w", err)
	}
	// Authorized as the upload of a log archive would be: a concrete name
	// under the prefix, so resource patterns and key conditions apply.
	example := accesslog.ObjectName(l.Prefix, now, "0000000000000000")
	if _, err := s.authorize(caller, access{action: "UploadArchive", vault: target, key: example}, now); err != nil {
		return fmt.Errorf("logging target %s: the caller must be allowed to upload into it: %w", l.TargetVault, err)
	}
	return nil
}

// checkNotLogTarget refuses to delete a vault that another vault's logging
// names, or that records still wait to be delivered into.
func (s *Store) checkNotLogTarget(tx *catalog.Txn, name string) error {
	after := ""
	for {
		vs, err := tx.Vaults(after, 1000)
		if err != nil {
			return err
		}
		for _, v := range vs {
			if v.GetLogging().GetTargetVault() == name {
				return fmt.Errorf("%w: vault %q delivers its access logs into %q; turn its logging off first", wormvault.ErrVaultIsLogTarget, v.GetName(), name)
			}
		}
		if len(vs) < 1000 {
			break
		}
		after = vs[len(vs)-1].GetName()
	}
	src, pending, err := tx.AccessLogInboxInto(name)
	if err != nil {
		return err
	}
	if pending {
		return fmt.Errorf("%w: access-log records of vault %q still wait for delivery into %q; retry after the next delivery", wormvault.ErrVaultIsLogTarget, src, name)
	}
	db, err := s.accessLogDB(tx, false)
	if err != nil || db == nil {
		return err
	}
	if err := db.View(func(tx *catalog.AccessLogTxn) (err error) {
		src, pending, err = tx.PendingInto(name)
		return err
	}); err != nil {
		return err
	}
	if pending {
		return fmt.Errorf("%w: access-log records of vault %q still wait for delivery into %q; retry after the next delivery", wormvault.ErrVaultIsLogTarget, src, name)
	}
	return nil
}

// RecordAccess makes r durable if its vault's logging is on, and returns
// once it is committed; for other vaults it does nothing. Records of
// concurrent calls commit together.
func (s *Store) RecordAccess(r accesslog.Record) error {
	s.accessLogs.inflight.RLock()
	defer s.accessLogs.inflight.RUnlock()
	l, ok := s.AccessLogging(r.Vault)
	if !ok {
		return nil
	}
	if err := s.groupCommit(accessLogRecord(r, l)); err != nil {
		return fmt.Errorf("vault: access log of %s: %w", r.Vault, err)
	}
	return nil
}

// accessLogRecord is r as stored, to be delivered as l says.
func accessLogRecord(r accesslog.Record, l Logging) *recordv1.AccessLogRecord {
	return &recordv1.AccessLogRecord{
		Time:          timestamppb.New(r.Time),
		RequestId:     r.RequestID,
		Principal:     r.Principal,
		RemoteAddr:    r.RemoteAddr,
		Tls:           r.TLS,
		Rpc:           r.RPC,
		Vault:         r.Vault,
		Key:           r.Key,
		VersionId:     r.VersionID,
		Status:        r.Status,
		Reason:        r.Reason,
		BytesIn:       r.BytesIn,
		BytesOut:      r.BytesOut,
		DurationNanos: int64(r.Duration),
		UserAgent:     r.UserAgent,
		TargetVault:   l.TargetVault,
		Prefix:        l.Prefix,
		AccessPoint:   r.AccessPoint,
	}
}

// AccessNote lets an operation that commits to the catalog anyway write its
// own access-log record in that commit (the catalog's inbox), so the
// operation's sync makes the record durable and the response waits for no
// second one. The server puts one in every logged call's context
// (WithAccessNote); uploads use it. When the record was committed, the
// server stores none of its own.
type AccessNote struct {
	// Record returns the call's record as if it ended now with OK, having
	// created a (which names the vault itself, never "ap/NAME").
	Record    func(a *Archive) accesslog.Record
	committed atomic.Bool
}

// Committed reports whether the operation's commit wrote its record.
func (n *AccessNote) Committed() bool { return n.committed.Load() }

type accessNoteKey struct{}

// WithAccessNote returns ctx carrying n.
func WithAccessNote(ctx context.Context, n *AccessNote) context.Context {
	return context.WithValue(ctx, accessNoteKey{}, n)
}

func accessNoteOf(ctx context.Context) *AccessNote {
	n, _ := ctx.Value(accessNoteKey{}).(*AccessNote)
	return n
}

// inboxAccess writes, inside an upload's commit, the access-log record of
// the call that made a, when the call carries a note and a's vault logs.
// It returns the note to mark committed once the commit is.
func (s *Store) inboxAccess(ctx context.Context, tx *catalog.Txn, a *Archive) (*AccessNote, error) {
	n := accessNoteOf(ctx)
	if n == nil || n.Record == nil {
		return nil, nil
	}
	// The setting as this transaction reads it, not the cache, which is
	// refreshed only after a change commits: an upload racing a change of
	// its vault's logging then conflicts and retries, and never writes a
	// record for a target that logging no longer names (and that may be
	// deleted meanwhile).
	v, err := tx.Vault(a.Record.GetVault())
	if err != nil {
		return nil, err
	}
	l := loggingFromRecord(v.GetLogging())
	if !l.On() {
		return nil, nil
	}
	if err := tx.PutAccessLogInbox(a.Record.GetVersionId(), accessLogRecord(n.Record(a), l)); err != nil {
		return nil, err
	}
	return n, nil
}

// groupCommit queues recs in the open group and waits until that group is
// committed. The first caller to find no leader commits its group; when it
// is done, one waiter of the group that formed meanwhile takes over, so no
// caller ever commits more than the one group it belongs to.
func (s *Store) groupCommit(recs ...*recordv1.AccessLogRecord) error {
	a := &s.accessLogs
	a.mu.Lock()
	if a.open == nil {
		a.open = &commitGroup{done: make(chan struct{}), promote: make(chan struct{}, 1)}
	}
	g := a.open
	g.recs = append(g.recs, recs...)
	if a.leading {
		a.mu.Unlock()
		select {
		case <-g.done:
			return g.err
		case <-g.promote:
		}
		a.mu.Lock()
	}
	// This caller leads: g is the open group, closed to newcomers now.
	a.leading = true
	a.open = nil
	a.mu.Unlock()

	g.err = s.commitAccessLogRecords(g.recs)
	close(g.done)

	a.mu.Lock()
	if next := a.open; next != nil {
		next.promote <- struct{}{}
	} else {
		a.leading = false
	}
	a.mu.Unlock()
	return g.err
}

// commitAccessLogRecords gives recs the next sequences and commits them, in
// transactions of at most maxCommitRecords. Only the group-commit leader
// calls it, so sequences commit in order: a delivery sees a prefix of the
// sequence, which its exactly-once rule relies on (see deliverBatch).
func (s *Store) commitAccessLogRecords(recs []*recordv1.AccessLogRecord) error {
	a := &s.accessLogs
	db, err := s.accessLogDB(nil, true)
	if err != nil {
		return err
	}
	if !a.seqOK {
		if err := db.View(func(tx *catalog.AccessLogTxn) (err error) {
			a.seq, err = tx.Seq()
			return err
		}); err != nil {
			return err
		}
		a.seqOK = true
	}
	for len(recs) > 0 {
		n, size := 0, 0
		for n < len(recs) && n < maxCommitRecords && (n == 0 || size < catalog.MaxAccessLogTxnBytes/2) {
			size += proto.Size(recs[n])
			n++
		}
		chunk := recs[:n]
		recs = recs[n:]
		for _, r := range chunk {
			a.seq++
			r.Seq = a.seq
		}
		// A failed commit leaves a gap in the sequences, never a reuse.
		if err := db.Update(context.Background(), func(tx *catalog.AccessLogTxn) error {
			return tx.PutRecords(chunk)
		}); err != nil {
			return err
		}
	}
	return nil
}

// loggingDetail describes a logging setting in VAULT_CREATE and
// VAULT_UPDATE audit events: "TARGET/PREFIX", or "" when off.
func loggingDetail(l *recordv1.Logging) string {
	if l.GetTargetVault() == "" {
		return ""
	}
	return l.GetTargetVault() + "/" + l.GetPrefix()
}

// metaAccessLogKey is the catalog meta setting that holds the access-log
// database's encryption key.
const metaAccessLogKey = "accesslog-key"

// accessLogDB returns the access-log database, opening it on first use.
// tx, when not nil, is a catalog transaction to read the database's key in
// (callers inside a commit pass theirs). Without create, a store whose
// access log was never used returns nil: nothing can be pending.
func (s *Store) accessLogDB(tx *catalog.Txn, create bool) (*catalog.AccessLogDB, error) {
	a := &s.accessLogs
	a.dbMu.Lock()
	defer a.dbMu.Unlock()
	if a.db != nil {
		return a.db, nil
	}
	var key []byte
	read := func(tx *catalog.Txn) (err error) {
		key, err = tx.Meta(metaAccessLogKey)
		return err
	}
	var err error
	if tx != nil {
		err = read(tx)
	} else {
		err = s.catalog.View(read)
	}
	if err != nil {
		return nil, err
	}
	if key == nil {
		if !create {
			return nil, nil
		}
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
		// Stored before the database exists, so no record is ever
		// written under a key the catalog does not hold.
		if err := s.catalog.Update(context.Background(), func(tx *catalog.Txn) error {
			old, err := tx.Meta(metaAccessLogKey)
			if err != nil || old != nil {
				key = old
				return err
			}
			return tx.PutMeta(metaAccessLogKey, key)
		}); err != nil {
			return nil, err
		}
	}
	dir := filepath.Join(s.cfg.DataDir, "accesslog")
	db, err := catalog.OpenAccessLog(dir, key, s.log)
	if errors.Is(err, catalog.ErrEncryptionKey) {
		// The catalog was rebuilt and lost the key of the records that
		// were waiting: keep them aside and start afresh.
		aside := dir + ".lost-" + time.Now().UTC().Format("20060102T150405Z")
		if rerr := os.Rename(dir, aside); rerr != nil {
			return nil, errors.Join(err, rerr)
		}
		s.log.Warn("the access-log records waiting for delivery are encrypted under a key the catalog no longer has (it was rebuilt); they were moved aside", "dir", aside)
		db, err = catalog.OpenAccessLog(dir, key, s.log)
	}
	if err != nil {
		return nil, err
	}
	a.db = db
	return db, nil
}

// closeAccessLogs closes the access-log database, if it was opened. The
// store's calls must have finished.
func (s *Store) closeAccessLogs() error {
	a := &s.accessLogs
	a.dbMu.Lock()
	defer a.dbMu.Unlock()
	if a.db == nil {
		return nil
	}
	err := a.db.Close()
	a.db = nil
	return err
}
