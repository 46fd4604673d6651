// Package soak drives a real wormvault server process hard for a while,
// injects faults into it, and then proves that nothing it acknowledged was
// lost: `make soak`, and in a short variant part of `make test`.
//
// Run builds cmd/wormvault, starts `wormvault serve` on a loopback port over
// six drive directories (4 data + 2 parity shards, SERVICE encryption, the
// default), and lets Config.Clients workers, each with its own connection
// through the Go SDK, run a mix of operations until Config.Duration is up:
//
//   - uploads of 4 KiB to 64 MiB, skewed to small ones (most are stored
//     inline in the catalog, the rest as shards), with COMPLIANCE,
//     GOVERNANCE or no retention and sometimes a legal hold;
//   - downloads of any acknowledged upload, by version, compared bit for bit
//     with the SHA-256 the client computed before sending it;
//   - listings, GOVERNANCE retention extensions, legal holds on and off,
//     delete markers (allowed), and deletes of COMPLIANCE-protected
//     versions, which must be denied.
//
// Every acknowledged upload is recorded with its SHA-256. Meanwhile the
// fault injector (faults.go) makes one drive unwritable, removes another
// (together they break the write quorum), fills a third (ENOSPC), and kills
// the server with SIGKILL and restarts it; after each drive fault it puts
// the drive back and heals. Every operation's outcome is judged against the
// faults that overlapped it (timeline.go): an upload may fail UNAVAILABLE
// while the write quorum is lost or the server is down, a protected delete
// must be PERMISSION_DENIED, and anything else is an unexpected error.
//
// At the end the store is healed twice (the second pass must find nothing
// to do), every drive must be online, and every acknowledged upload is read
// back and compared. The report (report.go) gives ops/s and p50/p99 latency
// per kind, errors by code (expected and unexpected), the acknowledged and
// verified counts and the server's peak RSS. A run passes only with zero
// lost or corrupted archives and zero unexpected errors.
package soak
