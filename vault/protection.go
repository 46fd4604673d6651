package vault

import (
	"context"
	"errors"
	"fmt"

	"github.com/wormvault/wormvault"
	"github.com/wormvault/wormvault/lock"
	recordv1 "github.com/wormvault/wormvault/proto/wormvault/record/v1"
	"github.com/wormvault/wormvault/vault/audit"
	"github.com/wormvault/wormvault/vault/catalog"
	"github.com/wormvault/wormvault/vault/journal"
)

// mutateVersion runs change on one version inside a catalog transaction and
// stores what it returns. An empty versionID means the latest version.
func (s *Store) mutateVersion(ctx context.Context, caller Caller, action, vault, key, versionID string, change func(rec *recordv1.Version, vrec *recordv1.Vault) ([]*recordv1.AuditEvent, error)) (*Archive, error) {
	if err := validateAddress(vault, key, versionID); err != nil {
		return nil, err
	}
	var a Archive
	err := s.commit(ctx, true, func(tx *catalog.Txn) ([]*journal.Entry, error) {
		vrec, err := tx.Vault(vault)
		if err != nil {
			return nil, err
		}
		rec, err := tx.Version(vault, key, versionID)
		if err != nil {
			// As in lookup: a caller the policies refuse learns nothing
			// of what the vault holds.
			if _, aerr := s.authorize(caller, access{action: action, vault: vrec, key: key}, s.clock.Now().Time); aerr != nil {
				return nil, aerr
			}
			return nil, err
		}
		if _, err := s.authorize(caller, access{action: action, vault: vrec, key: key, ver: rec}, s.clock.Now().Time); err != nil {
			return nil, err
		}
		evs, err := change(rec, vrec)
		if err != nil {
			return nil, err
		}
		if err := tx.PutVersion(rec); err != nil {
			return nil, err
		}
		a.Record = rec
		// The change's time, for its journal entry and its receipt.
		a.CommitTime = s.clock.Now().Time
		a.IsLatest, err = tx.IsLatest(rec)
		return s.audited(tx, []*journal.Entry{versionPut(a.CommitTime, rec)}, err, evs...)
	})
	if err != nil {
		return nil, err
	}
	return &a, nil
}

// SetRetention sets, extends, shortens or removes (zero r) a version's
// retention, as the lock rules allow.
func (s *Store) SetRetention(ctx context.Context, caller Caller, vault, key, versionID string, r wormvault.Retention, bypass bool) (*Archive, error) {
	r.FromDefault = false
	caller, target, err := s.resolveVault(caller, "vault", vault)
	if err != nil {
		return nil, fmt.Errorf("vault.SetRetention %s/%s: %w", vault, key, err)
	}
	vault = target
	a, err := s.mutateVersion(ctx, caller, "SetRetention", vault, key, versionID, func(rec *recordv1.Version, vrec *recordv1.Vault) ([]*recordv1.AuditEvent, error) {
		now, err := s.clock.Decide()
		if err != nil {
			return nil, err
		}
		b := lock.Bypass{Requested: bypass, Allowed: bypass && s.mayBypassGovernance(caller, vrec, rec, now.Time)}
		if err := lock.CheckSetRetention(now, lockVersion(rec), r, b, maxRetention(vrec)); err != nil {
			return nil, err
		}
		// The bypass was used when the change would have been refused
		// without it.
		bypassed := b.Allowed && lock.CheckSetRetention(now, lockVersion(rec), r, lock.Bypass{Requested: bypass}, maxRetention(vrec)) != nil
		old := rec.GetRetention()
		rec.Retention = retentionToRecord(r)
		evs := []*recordv1.AuditEvent{auditEvent(audit.KindRetentionSet, caller, vault, rec.GetKey(), rec.GetVersionId(), audit.RetentionDetails(old, rec.GetRetention()))}
		if bypassed {
			d := audit.RetentionDetails(old, rec.GetRetention())
			d["action"] = "SetRetention"
			evs = append(evs, auditEvent(audit.KindGovernanceBypass, caller, vault, rec.GetKey(), rec.GetVersionId(), d))
		}
		return evs, nil
	})
	if err != nil {
		return nil, fmt.Errorf("vault.SetRetention %s/%s: %w", vault, key, err)
	}
	return a, nil
}

// GetRetention returns a version's retention, or an error wrapping
// wormvault.ErrNoRetention.
func (s *Store) GetRetention(ctx context.Context, caller Caller, vault, key, versionID string) (*Archive, wormvault.Retention, error) {
	a, err := s.lookup(caller, "GetRetention", vault, key, versionID)
	if err != nil {
		return nil, wormvault.Retention{}, fmt.Errorf("vault.GetRetention %s/%s: %w", vault, key, err)
	}
	r, err := lock.RetentionOf(lockVersion(a.Record))
	if err != nil {
		return nil, wormvault.Retention{}, fmt.Errorf("vault.GetRetention %s/%s: %w", vault, key, err)
	}
	return a, r, nil
}

// SetLegalHold places (on) or releases the hold named holdID.
func (s *Store) SetLegalHold(ctx context.Context, caller Caller, vault, key, versionID string, on bool, holdID, reason string) (*Archive, error) {
	if len(reason) > 1024 {
		return nil, wormvault.InvalidArgument("reason", "at most 1024 bytes")
	}
	caller, target, err := s.resolveVault(caller, "vault", vault)
	if err != nil {
		return nil, fmt.Errorf("vault.SetLegalHold %s/%s: %w", vault, key, err)
	}
	vault = target
	a, err := s.mutateVersion(ctx, caller, "SetLegalHold", vault, key, versionID, func(rec *recordv1.Version, _ *recordv1.Vault) ([]*recordv1.AuditEvent, error) {
		v := lockVersion(rec)
		if err := lock.CheckSetLegalHold(v, holdID); err != nil {
			return nil, err
		}
		details := map[string]string{"hold_id": lock.HoldID(holdID)}
		if on {
			rec.LegalHolds = holdsToRecord(lock.PlaceHold(v.Holds, wormvault.LegalHold{
				ID: holdID, Reason: reason, SetBy: caller.Principal, SetTime: s.clock.Now().Time,
			}))
			details["reason"] = reason
			return []*recordv1.AuditEvent{auditEvent(audit.KindLegalHoldSet, caller, vault, rec.GetKey(), rec.GetVersionId(), details)}, nil
		}
		rest, released := lock.ReleaseHold(v.Holds, holdID)
		if !released {
			return nil, fmt.Errorf("%w: no hold named %q", wormvault.ErrNoLegalHold, lock.HoldID(holdID))
		}
		rec.LegalHolds = holdsToRecord(rest)
		return []*recordv1.AuditEvent{auditEvent(audit.KindLegalHoldRelease, caller, vault, rec.GetKey(), rec.GetVersionId(), details)}, nil
	})
	if err != nil {
		return nil, fmt.Errorf("vault.SetLegalHold %s/%s: %w", vault, key, err)
	}
	return a, nil
}

// GetLegalHold returns the version with its holds.
func (s *Store) GetLegalHold(ctx context.Context, caller Caller, vault, key, versionID string) (*Archive, error) {
	a, err := s.lookup(caller, "GetLegalHold", vault, key, versionID)
	if err != nil {
		return nil, fmt.Errorf("vault.GetLegalHold %s/%s: %w", vault, key, err)
	}
	if a.Record.GetDeleteMarker() {
		return nil, fmt.Errorf("vault.GetLegalHold %s/%s: %w", vault, key, wormvault.InvalidArgument("version_id", "a delete marker carries no legal hold"))
	}
	return a, nil
}

// ExplainProtection lists what stops a permanent delete of a version now.
func (s *Store) ExplainProtection(ctx context.Context, caller Caller, vault, key, versionID string) (*Archive, []lock.Protection, error) {
	a, err := s.lookup(caller, "ExplainProtection", vault, key, versionID)
	if err != nil {
		return nil, nil, fmt.Errorf("vault.ExplainProtection %s/%s: %w", vault, key, err)
	}
	now := s.clock.Now()
	prot := lock.Explain(now, lockVersion(a.Record))
	// Would a policy statement deny this caller the permanent delete? The
	// caller as it came, through its access point if any.
	caller, _, err = s.resolveVault(caller, "vault", vault)
	if err != nil {
		return nil, nil, fmt.Errorf("vault.ExplainProtection %s/%s: %w", vault, key, err)
	}
	var vrec *recordv1.Vault
	if err := s.catalog.View(func(tx *catalog.Txn) (err error) {
		vrec, err = tx.Vault(a.Record.GetVault())
		return err
	}); err != nil {
		return nil, nil, err
	}
	if sid, err := s.authorize(caller, access{action: "DeleteArchive", vault: vrec, key: key, ver: a.Record}, now.Time); errors.Is(err, wormvault.ErrPolicyDenied) {
		kind := "access policy"
		if vaultLockOf(vrec).Enforced(now.Time) {
			kind = "vault lock or access policy"
		}
		if caller.AccessPoint != "" {
			kind += " (or access point " + caller.AccessPoint + ")"
		}
		prot = append(prot, lock.Protection{Kind: lock.ProtectedByPolicy, Sid: sid, Reason: fmt.Sprintf("statement %q of the %s denies wormvault:DeleteArchive", sid, kind)})
	}
	if vrec.GetMfaDelete() && !caller.MFAPresent {
		prot = append(prot, lock.Protection{Kind: lock.ProtectedByMFADelete, Reason: "the vault has MFA delete enabled: a permanent delete needs a valid MFA code (metadata x-wormvault-mfa)"})
	}
	return a, prot, nil
}

// Clock returns the trusted clock, for status and acknowledgement.
func (s *Store) Clock() *lock.Clock { return s.clock }
