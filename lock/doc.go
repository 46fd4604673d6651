// Package lock holds the WORM rules: pure functions that decide whether a
// retention, a legal hold or a permanent delete is allowed, and the trusted
// clock those decisions are taken by.
//
// The vault layer runs every lock-relevant request through this package
// before it touches storage: it reads the time once from Clock.Decide, builds
// a Version from its catalog record and a Bypass from the request and the
// caller's permissions, and calls, say, lock.CheckDelete(now, version, bypass).
// Nothing here does I/O, logs or speaks gRPC; errors wrap the sentinels of
// package wormvault so the server maps them to status codes with errors.Is.
//
// The rules, numbered as in the Object Lock issue:
//
//   - Rule 1: A vault default retention has a mode (GOVERNANCE or COMPLIANCE) and
//     exactly one of days or years, positive, at most 100 years
//     (ValidateDefaultRetention). Removing it is allowed and never changes
//     versions already stored.
//   - Rule 2: A new version without explicit retention gets create_time + the default
//     period (FromDefault); an explicit retention overrides the default in
//     either direction (ResolveRetention).
//   - Rule 3: A retain-until must be in the future and at most 100 years ahead, and a
//     mode must be set; a delete marker cannot carry retention
//     (wormvault.ErrInvalidArgument naming the field).
//   - Rule 4: Extending (same mode, later date) is always allowed (CheckSetRetention).
//   - Rule 5: Active COMPLIANCE cannot be shortened, removed or turned into GOVERNANCE
//     by anyone, bypass or not: wormvault.ErrRetentionCompliance.
//   - Rule 6: Active GOVERNANCE can be shortened, removed or change mode (to
//     COMPLIANCE too) only with a granted Bypass (the flag AND the
//     permission): else wormvault.ErrRetentionGovernance.
//   - Rule 7: A version without retention has none to report: wormvault.ErrNoRetention
//     (RetentionOf).
//   - Rule 8: Legal holds are independent of retention and never expire; a delete
//     marker cannot carry one (CheckSetLegalHold). Rule 8a: holds are named
//     (default "default", 1-64 characters); several may stand; releasing
//     releases only the named one (PlaceHold, ReleaseHold).
//   - Rule 9: Deleting without a version id only adds a delete marker: always allowed.
//   - Rule 10: Deleting a version by id: a standing hold refuses
//     (wormvault.ErrLegalHoldActive, bypass does not help); active COMPLIANCE
//     refuses; active GOVERNANCE needs a granted Bypass; delete markers can
//     always be removed (CheckDelete).
//   - Rule 13a: A version is protected while now <= retain-until: the boundary instant
//     is still locked.
//   - Rule 13b: A vault's max_retention (default and at most 100 years) caps every new
//     retain-until; only root may raise it, anyone may lower it; it never
//     affects versions already stored (ValidateMaxRetention,
//     CheckMaxRetentionChange, CheckDefaultRetentionFits).
//   - Rule 13c: Explain lists what stops a permanent delete now and when each ends;
//     the policy and vault layers append policy statements and MFA delete.
//   - Rule 14: The trusted Clock never goes backwards: its high-water mark is
//     persisted by Tick and at every decision (Decide), so setting the system
//     clock back neither extends nor shortens anything.
//   - Rule 15: A forward jump of the wall clock beyond what the monotonic clock saw
//     (plus DefaultClockSkew), at startup or while running, makes the Clock
//     untrusted until root acknowledges it (Acknowledge). While untrusted,
//     every decision allowed only because a retention has expired fails with
//     wormvault.ErrClockUntrusted; decisions that do not depend on an expiry
//     (extending, holds, deleting a never-retained version, delete markers)
//     still work.
package lock
