package vault

import (
	"context"
	"errors"
	"fmt"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	recordv1 "github.com/wormvault/wormvault/proto/wormvault/record/v1"
	"github.com/wormvault/wormvault/vault/catalog"
	"github.com/wormvault/wormvault/vault/journal"
)

// How a change becomes durable and survives the loss of meta/:
//
//  1. The change is decided inside a catalog transaction (lock rules,
//     policies) and described as journal entries (full records).
//  2. The entries are appended to the journal on every drive; Append returns
//     once a quorum (m+1 drives) has them durable.
//  3. The catalog transaction commits. If it does not (a lost race, an I/O
//     error), the entries are voided in the journal, so a rebuild skips
//     them.
//
// Mutations other than upload commits are serialized (s.mutations held
// exclusively), so the journal's order is the order the rules saw: a crash
// between steps 2 and 3 leaves at most one un-voided entry, the last, which
// was valid against exactly the state the journal describes before it.
// Upload commits only insert new versions; they share the lock, so many run
// at once and the journal batches their fsyncs.
//
// Each transaction also records the last journal seq it appended
// (rollforward.go): a crash between steps 2 and 3 leaves entries the catalog
// lacks, and the next Open replays them, so the catalog never falls behind
// what the journal (and a later rebuild) says happened.

// maxCommitAttempts bounds retries of a transaction that lost a race.
const maxCommitAttempts = 16

// commit runs decide in a catalog transaction and journals the entries it
// returns before the transaction commits. exclusive serializes it with
// every other mutation; upload commits pass false.
func (s *Store) commit(ctx context.Context, exclusive bool, decide func(tx *catalog.Txn) ([]*journal.Entry, error)) error {
	if exclusive {
		s.mutations.Lock()
		defer s.mutations.Unlock()
	} else {
		s.mutations.RLock()
		defer s.mutations.RUnlock()
	}
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		var appended journal.SeqRange
		inflight := s.applied.begin(s.journal.LastSeq() + 1)
		err := s.catalog.Attempt(func(tx *catalog.Txn) error {
			entries, err := decide(tx)
			if err != nil || len(entries) == 0 {
				return err
			}
			// After a master-key rotation, nothing is journaled wrapped
			// under the old key (masterkey_rotate.go).
			if err := s.rewrapStale(tx, entries); err != nil {
				return err
			}
			last, err := s.journal.Append(context.WithoutCancel(ctx), entries...)
			if err != nil {
				return fmt.Errorf("vault: journal: %w", err)
			}
			appended = journal.SeqRange{First: last - uint64(len(entries)) + 1, Last: last}
			s.crashAfterJournal(entries)
			return putApplied(tx, s.applied.mark(inflight, last))
		})
		s.applied.end(inflight)
		if err != nil && appended.Last != 0 {
			// Journaled but not committed: the entries must never apply.
			if verr := s.journal.Void(context.WithoutCancel(ctx), appended); verr != nil {
				s.log.Error("could not void journal entries of a failed commit; a rebuild would apply them", "seqs", appended.String(), "err", verr)
			}
		}
		if errors.Is(err, catalog.ErrConflict) && attempt < maxCommitAttempts {
			time.Sleep(time.Duration(attempt) * time.Millisecond)
			continue
		}
		return s.crashAfterCommit(err)
	}
}

func entryAt(now time.Time) *journal.Entry {
	return &journal.Entry{Time: timestamppb.New(now)}
}

func versionPut(now time.Time, v *recordv1.Version) *journal.Entry {
	e := entryAt(now)
	e.Change = &recordv1.JournalEntry_VersionPut{VersionPut: v}
	return e
}

func versionDelete(now time.Time, v *recordv1.Version) *journal.Entry {
	e := entryAt(now)
	e.Change = &recordv1.JournalEntry_VersionDelete{VersionDelete: &recordv1.JournalVersionDelete{Vault: v.GetVault(), Key: v.GetKey(), VersionId: v.GetVersionId()}}
	return e
}

func blobPut(now time.Time, b *recordv1.Blob) *journal.Entry {
	e := entryAt(now)
	e.Change = &recordv1.JournalEntry_BlobPut{BlobPut: b}
	return e
}

func vaultPut(now time.Time, v *recordv1.Vault) *journal.Entry {
	e := entryAt(now)
	e.Change = &recordv1.JournalEntry_VaultPut{VaultPut: v}
	return e
}

func vaultDelete(now time.Time, name string) *journal.Entry {
	e := entryAt(now)
	e.Change = &recordv1.JournalEntry_VaultDelete{VaultDelete: &recordv1.JournalVaultDelete{Name: name}}
	return e
}

func accessKeyPut(now time.Time, k *recordv1.AccessKey) *journal.Entry {
	e := entryAt(now)
	e.Change = &recordv1.JournalEntry_AccessKeyPut{AccessKeyPut: k}
	return e
}

func principalPut(now time.Time, p *recordv1.Principal) *journal.Entry {
	e := entryAt(now)
	e.Change = &recordv1.JournalEntry_PrincipalPut{PrincipalPut: p}
	return e
}

func principalDelete(now time.Time, name string) *journal.Entry {
	e := entryAt(now)
	e.Change = &recordv1.JournalEntry_PrincipalDelete{PrincipalDelete: &recordv1.JournalPrincipalDelete{Name: name}}
	return e
}

func accessKeyDelete(now time.Time, keyID string) *journal.Entry {
	e := entryAt(now)
	e.Change = &recordv1.JournalEntry_AccessKeyDelete{AccessKeyDelete: &recordv1.JournalAccessKeyDelete{KeyId: keyID}}
	return e
}
