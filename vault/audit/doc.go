// Package audit is wormvault's audit trail: an append-only, hash-chained log
// of every lock-relevant and security-relevant change, stored in the catalog.
//
// # Chain
//
// Events are numbered 1, 2, 3, ... with no gaps. Each holds the SHA-256 of
// the event before it (prev_sha256) and its own SHA-256, taken over its
// stored bytes without the digest (see recordv1.AuditEvent). Editing an
// event's bytes breaks its own digest; deleting one breaks the numbering;
// editing one and recomputing its digest breaks the next event's
// prev_sha256. The catalog keeps the head (last sequence and digest), so
// dropping the newest events is caught too.
//
// # Atomicity
//
// Trail.Append writes an event inside the caller's catalog transaction, so
// the event commits exactly when the change it describes does. Every append
// reads and writes the head, so two transactions appending at once conflict
// and the later one is retried (catalog.Update, or the vault's commit loop).
// Trail.Record appends in a transaction of its own, for events that change
// nothing else (KMS use, clock anomalies, heal results).
//
// # Checkpoints
//
// Someone who can write the database can rewrite the trail wholesale:
// change an event and recompute every digest after it. A checkpoint signs
// the head with an HMAC keyed from the master key (DeriveCheckpointKey);
// Verify checks every stored checkpoint against the chain, so a rewrite of
// any event at or before a checkpoint is caught. Truncating the newest
// events together with their checkpoints is only caught against a
// checkpoint kept elsewhere (VerifyCheckpoint): operators who need that
// proof export checkpoints off the machine.
//
// # No deletion
//
// Nothing in this package or the catalog deletes or edits an audit event or
// checkpoint. The catalog's ...ForTest tamper hooks refuse to run outside a
// test binary.
package audit
