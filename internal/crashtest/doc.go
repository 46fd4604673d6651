// Package crashtest is the crash-consistency harness: its test kills a real
// `wormvault serve` process with SIGKILL at the crash points the server and
// the store declare (vault/crashpoint.go, server/crashpoint.go), during a
// random concurrent workload, restarts it on the same data directory and
// checks what must survive any crash:
//
//  1. every acknowledged operation is present (uploads bit-exact,
//     retention, legal hold and delete-marker changes visible);
//  2. no partial archive is visible: every listed version reads fully and
//     matches its SHA-256, and an unacknowledged upload is whole or absent;
//  3. no orphan shards after the startup sweep: every object on the drives
//     belongs to a catalog version, and no temp file is left;
//  4. the audit trail verifies;
//  5. vault-lock state and policies are as before (a completion that was
//     cut off may or may not have happened), and COMPLIANCE versions are
//     still undeletable;
//  6. each access-logged request is delivered at most once, and once
//     delivery ran, each acknowledged one exactly once;
//  7. the journal on the drives agrees with the catalog: a catalog rebuilt
//     from it lists the same versions, protections and locks, all readable,
//     with no orphan left.
//
// The package has no code outside its tests. `go test ./internal/crashtest`
// runs a few runs per point; `make crash` runs the 20 per point of the
// acceptance criteria. See crash_test.go for the environment variables that
// choose the points, the runs and the seed.
package crashtest
