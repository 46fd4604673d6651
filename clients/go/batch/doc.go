// Package batch uploads many files into one vault as a resumable batch and
// writes a receipt of every version it committed.
//
// A batch is a list of Items (a directory tree from Walk, or a CSV manifest
// from ParseManifest) and a Config. Put uploads the items in parallel through
// the Go SDK, which streams each file (memory does not grow with file size),
// and returns a Result whose Receipt lists, per file, the key, version id,
// size, SHA-256, retention, legal hold and commit time the server reported.
//
// # Journal and resume
//
// Every committed file is appended as one JSON line to a journal beside the
// receipt (RECEIPT.journal), fsynced in small groups. Its first line is a
// header naming the vault and the instant the batch first started; that
// instant anchors every relative retention (compliance:7y), so a resumed
// batch asks for exactly the retain-until times the first run asked for.
// With Config.Resume, Put reads the journal (a torn last line, left by a
// process killed mid-write, is dropped) and skips each file whose path, size
// and modification time match a journal line and whose version still exists
// (one Stat).
//
// # Idempotence
//
// An upload interrupted before the server committed it stored nothing and is
// simply redone. An upload committed but not journaled (the process died
// between the server's answer and the journal write), or one whose answer was
// lost to a transient error after every byte was sent, must not become a
// second version. So before re-uploading such a file (every file missing
// from the journal on resume, and every file before a retry), Put looks at
// the key's latest version: when it has the file's size and SHA-256 (hashed
// locally, only when the sizes agree), was created after the batch first
// started (allowing adoptClockSkew of client/server clock difference), and
// carries the retention mode, retain-until and legal hold the batch asks for,
// Put adopts it into the journal instead of uploading again.
//
// # Failures
//
// Transient failures (Unavailable, Aborted, DeadlineExceeded, and
// ResourceExhausted when the server sends a google.rpc.RetryInfo) are retried
// with exponential backoff and jitter, Config.MaxAttempts times in all.
// Other server refusals are permanent: the file is recorded in the summary's
// failures and the batch goes on (until Config.MaxFailures). A file that
// cannot be read stops the batch: no new upload starts, those in flight
// finish, and the receipt is written with complete=false.
//
// # Receipt
//
// The receipt is indented JSON (format "wormvault batch receipt v1") with a
// CSV of the same file rows beside it (RECEIPT with .csv for .json). Its
// summary carries receipt_sha256: the SHA-256 of the receipt's exact bytes as
// written with that field's value empty (""). Verification works on the raw
// bytes, not on a re-encoding, so it is byte-exact and independent of any
// JSON encoder: blank the one "receipt_sha256" value, hash, compare. The
// summary's csv_sha256 pins the CSV the same way. These hashes catch an
// edited receipt, not a forged one; for that each row carries the server's
// signed receipt of its upload (server_receipt, client.ReceiptJSON), which
// only the server's key can produce. An adopted version has none: the
// answer that carried it was lost.
//
// VerifyReceiptHash checks a receipt's bytes; Verify re-reads every
// version's metadata from the server (and, when deep, its bytes) and checks
// each server receipt against the server's public key.
package batch
