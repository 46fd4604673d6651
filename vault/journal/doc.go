// Package journal keeps the catalog's change log: an ordered, append-only
// journal of every catalog change, replicated on every drive, so that no
// retention date or legal hold is ever held by one drive alone.
//
// The Badger catalog is the fast index; the journal (with the version record
// in every shard trailer) is the truth it can be rebuilt from.
//
//	j, _ := journal.Open(dirs, m+1)             // one <drive>/journal per erasure drive
//	seq, err := j.Append(ctx, &journal.Entry{...}) // durable on a quorum, then commit Badger
//	rep, err := j.ReadAll(ctx, apply)           // the merged journal, majority copy of each seq
//	rep, err = j.Repair(ctx)                    // rewrite lagging or disagreeing drives
//
// # Entries
//
// An Entry is a recordv1.JournalEntry: a seq, the caller's trusted time and
// one change (version put, version delete, vault put, vault delete, meta
// put, access key put, void). A put carries the full record as committed,
// so replaying entries in seq order, last writer wins, yields the catalog.
// New kinds are new fields of the oneof; a reader that meets an entry with
// no change it knows (an older binary) must stop, not skip it.
//
// # Contract with the catalog
//
// Append before the Badger commit; commit only if Append returned nil
// (ErrQuorum or any error: do not commit). Append is the commit point of
// the journal: an entry durable on a quorum counts even if the process dies
// before Badger commits, so the catalog stores the last seq it applied (in
// the same Badger transaction) and on open applies ReadFrom(ctx, applied).
// If the Badger commit fails after Append succeeded (a conflict that is not
// retried, an I/O error), call Void for the returned seqs. A transaction
// retried after a conflict appends again: the retry's entries come later
// and win. Transactions must read what they write (as Badger requires for
// conflict detection), so two concurrent writes of one record either
// conflict or are journaled in commit order.
//
// An Append that fails, or whose context ends first, may have reached some
// drives; the journal voids its seqs with its next write (or at Close). A
// crash in between leaves them unvoided: like any write-ahead log, an
// unacknowledged change may take effect; an acknowledged one always does.
//
// # Writing
//
// Seqs are assigned under one lock, 1, 2, 3, ... with no gaps while the
// journal is open (a failed batch keeps its seqs and is voided), and each
// Append's entries become one batch that takes effect all or nothing. Each
// drive has a writer goroutine and a queue: a batch is queued on every
// online drive in seq order, and each writer takes everything queued (up to
// MaxAppendSize) into one write and one fsync, which is the group commit.
// Append returns once Quorum drives have fsynced the batch. A drive whose
// write, fsync or create fails, or that falls driveQueue writes behind, goes
// offline until Repair or the next Open; below quorum Append fails with
// ErrQuorum. Opening for writing needs max(Quorum, n-Quorum+1) readable
// drives, so that every acknowledged entry is seen and no seq is reused.
//
// # Reading and the merge rule
//
// ReadAll merges the drives by seq. For each seq the copies are the frames
// with that seq on the drives that hold it (at least one). If they are
// byte-identical, that is the entry. If not, the copy held by the most
// drives wins, and two different copies tied for the most is ErrNoMajority,
// naming the seq: the journal does not guess. Drives that lack the seq
// (offline, replaced, torn) do not vote. The Report lists per drive the
// seqs it lacks (Missing, as ranges) and holds differently (Disagree), and
// why it could not be read to its end (Err). Voided entries, the voids, and
// batches not all present are skipped (reported as Voided, Incomplete);
// seqs no drive holds are reported as Gaps. Reading is two passes: the
// first checks every copy and collects the voids, the second delivers.
//
// # Torn tails and corruption
//
// Each write is fsynced before the next is issued, so a crash can tear
// only the last write of a drive, at most headerSize+MaxAppendSize bytes.
// On open, a bad frame (short, wrong length, wrong checksum) within that
// many bytes of the end of a drive's last segment is a torn tail: it is cut
// away (truncate + fsync; a segment left without entries is removed) and
// shown in DriveStatus.TornBytes. Damage anywhere else, a CRC-valid frame
// whose entry is malformed, or seqs that do not increase, is corruption:
// the drive is reported with an error wrapping ErrCorrupt and not written
// to; ReadAll reads it up to the damage and the other drives supply the
// rest; Repair rewrites it.
//
// # On-disk format, version 1
//
//	<drive>/journal/<first-seq, 20 decimal digits>.wvj   one segment
//	<drive>/journal.repair/, <drive>/journal.old/         during Repair only
//
// A drive starts a new segment, named by the seq of its first entry, when
// the current one has reached Config.SegmentSize (64 MiB): segments can be
// longer by one write. All integers are little-endian. A segment is a
// 48-byte header followed by frames:
//
//	offset  size  field
//	0       8     magic "WVJOURN\x00"
//	8       2     format version = 1
//	10      1     frame checksum: 1 = CRC-32C (Castagnoli)
//	11      1     entry encoding: 1 = protobuf wormvault.record.v1.JournalEntry,
//	              deterministic encoding (fields in number order)
//	12      4     reserved, zero
//	16      16    journal id: random, the same on every drive of one journal
//	32      8     first seq (equals the file name and the first frame's seq)
//	40      4     reserved, zero
//	44      4     CRC-32C of bytes [0, 44)
//
//	frame:
//	0       4     payload length L, 1 <= L <= MaxEntrySize (4 MiB)
//	4       4     CRC-32C of the 4 length bytes followed by the payload
//	8       L     payload: one encoded JournalEntry
//
// Within a drive, seqs strictly increase across frames and segments (a
// drive that was offline has holes). Every drive is written the same
// payload bytes for a seq, so copies compare by bytes. Voids name earlier
// seqs only; a void is never voided. The golden file testdata/golden pins
// this format; FuzzDecodeEntry and FuzzSegment fuzz its decoders. A new
// format gets a new version number and this package keeps reading every
// version it ever wrote.
//
// # Future work
//
// Compaction: the journal grows with every change. The planned design is a
// snapshot record (the catalog's state as of a seq, written as a run of
// entries in a new segment) after which older segments are removed; the
// merge already tolerates a journal that starts past seq 1 (reported as a
// gap). Encryption at rest of the journal (Badger's is on; version records
// in shard trailers are not encrypted either).
package journal
