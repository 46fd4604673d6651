package vault

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/wormvault/wormvault"
	"github.com/wormvault/wormvault/lock"
	"github.com/wormvault/wormvault/lock/policy"
	recordv1 "github.com/wormvault/wormvault/proto/wormvault/record/v1"
	"github.com/wormvault/wormvault/vault/audit"
	"github.com/wormvault/wormvault/vault/catalog"
	"github.com/wormvault/wormvault/vault/journal"
)

// policyCache keeps compiled policies by document text: compiling CEL costs
// far more than evaluating it, and documents change rarely.
type policyCache struct {
	mu sync.Mutex
	m  map[string]*policy.Policy
}

const maxCachedPolicies = 4096

func (c *policyCache) get(doc string) (*policy.Policy, error) {
	if doc == "" {
		return nil, nil
	}
	c.mu.Lock()
	p, ok := c.m[doc]
	c.mu.Unlock()
	if ok {
		return p, nil
	}
	p, err := policy.Parse([]byte(doc))
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxCachedPolicies {
		c.m = map[string]*policy.Policy{}
	}
	c.m[doc] = p
	c.mu.Unlock()
	return p, nil
}

// vaultLockOf converts the record's lock.
func vaultLockOf(r *recordv1.Vault) lock.VaultLock {
	l := r.GetVaultLock()
	if l == nil {
		return lock.VaultLock{}
	}
	return lock.VaultLock{
		State:      lock.VaultLockState(l.GetState()),
		Policy:     l.GetPolicy(),
		LockID:     l.GetLockId(),
		CreateTime: l.GetCreateTime().AsTime(),
		ExpireTime: l.GetExpireTime().AsTime(),
	}
}

func vaultLockToRecord(l lock.VaultLock) *recordv1.VaultLock {
	if l.State == lock.VaultLockNone {
		return nil
	}
	return &recordv1.VaultLock{
		State:      recordv1.VaultLockState(l.State),
		Policy:     l.Policy,
		LockId:     l.LockID,
		CreateTime: timestamppb.New(l.CreateTime),
		ExpireTime: timestamppb.New(l.ExpireTime),
	}
}

// policyAdminActions are the actions root may always take on a vault's
// access policy and access points, whatever the access policy says, so no
// access policy can lock root out of its own vault (one requiring access
// points must not keep root from creating them). A vault-lock policy still
// binds root.
var policyAdminActions = map[string]bool{
	"SetVaultAccessPolicy": true, "GetVaultAccessPolicy": true, "DeleteVaultAccessPolicy": true,
	"CreateAccessPoint": true, "GetAccessPoint": true, "ListAccessPoints": true,
	"UpdateAccessPointPolicy": true, "DeleteAccessPoint": true,
}

// archiveFacts are the archive.* facts of a version at now.
func archiveFacts(v *recordv1.Version, now time.Time) *policy.ArchiveFacts {
	if v == nil {
		return nil
	}
	f := &policy.ArchiveFacts{Key: v.GetKey(), SizeBytes: v.GetSizeBytes(), LegalHold: len(v.GetLegalHolds()) > 0}
	if ct := v.GetCreateTime(); ct != nil {
		f.AgeDays = int64(now.Sub(ct.AsTime()) / (24 * time.Hour))
	}
	if r := retentionFromRecord(v.GetRetention()); !r.IsZero() {
		f.RetentionMode, f.RetainUntil = r.Mode.String(), r.RetainUntil
	}
	return f
}

// access describes one request for authorization.
type access struct {
	action string // RPC name, e.g. "DeleteArchive"
	vault  *recordv1.Vault
	key    string            // archive key, "" for vault-level actions
	ver    *recordv1.Version // the version acted on, when there is one
}

// authorize decides a request by the policies that bear on it: the vault's
// lock policy (while in progress or locked), its access policy (except for
// root's management of that policy and of access points), the caller's identity
// policy and, for a request through an access point, the access point's
// policy. The rule, in order:
//
//  1. An explicit DENY in any of them wins, root included.
//  2. Through an access point, a caller other than root needs an ALLOW in
//     the access point's policy: an access point only narrows who may do
//     what through it.
//  3. Then an ALLOW in the vault's policies or the caller's identity policy
//     decides, as for a direct request: the access point's ALLOW alone
//     never suffices. Root needs none; everyone else is denied.
//
// So a non-root request through an access point needs both the access
// point and the vault side (vault access policy or identity policy) to
// allow it, and nothing to deny it, as S3 requires of access points. The
// denial names the deciding statement's sid, never the policy text.
func (s *Store) authorize(caller Caller, a access, now time.Time) (sid string, err error) {
	req := policy.Request{
		Principal:       caller.Principal,
		Action:          "wormvault:" + a.action,
		SecureTransport: caller.SecureTransport,
		MFAPresent:      caller.MFAPresent,
		Encryption:      caller.Encryption,
		Time:            now,
		AccessPoint:     caller.AccessPoint,
		SourceIP:        caller.SourceIP,
	}
	var pols []*policy.Policy
	if a.vault != nil {
		req.Vault = a.vault.GetName()
		req.Resource = "vaults/" + a.vault.GetName()
		if a.key != "" {
			req.Resource += "/archives/" + a.key
			req.Archive = archiveFacts(a.ver, now)
			if req.Archive == nil {
				req.Archive = &policy.ArchiveFacts{Key: a.key}
			}
		}
		if l := vaultLockOf(a.vault).Effective(now); l.State != lock.VaultLockNone {
			p, err := s.policies.get(l.Policy)
			if err != nil {
				return "", fmt.Errorf("vault: stored lock policy of %s does not parse: %w", a.vault.GetName(), err)
			}
			pols = append(pols, p)
		}
		if !(caller.Root && policyAdminActions[a.action]) {
			p, err := s.policies.get(a.vault.GetAccessPolicy())
			if err != nil {
				return "", fmt.Errorf("vault: stored access policy of %s does not parse: %w", a.vault.GetName(), err)
			}
			pols = append(pols, p)
		}
	}
	if caller.identityPolicy != "" {
		p, err := s.policies.get(caller.identityPolicy)
		if err != nil {
			return "", fmt.Errorf("vault: stored identity policy of %s does not parse: %w", caller.Principal, err)
		}
		pols = append(pols, p)
	}
	d, sid := policy.Decide(req, pols...)
	if d == policy.Deny {
		return sid, fmt.Errorf("%w: statement %q denies %s on %s", wormvault.ErrPolicyDenied, sid, req.Action, req.Resource)
	}
	if caller.AccessPoint != "" {
		p, err := s.policies.get(caller.accessPointPolicy)
		if err != nil {
			return "", fmt.Errorf("vault: stored policy of access point %s does not parse: %w", caller.AccessPoint, err)
		}
		switch ad, asid := p.Eval(req); {
		case ad == policy.Deny:
			return asid, fmt.Errorf("%w: statement %q of access point %q denies %s on %s", wormvault.ErrPolicyDenied, asid, caller.AccessPoint, req.Action, req.Resource)
		case ad != policy.Allow && !caller.Root:
			return "", fmt.Errorf("%w: the policy of access point %q does not allow %s %s on %s", wormvault.ErrPermissionDenied, caller.AccessPoint, caller.Principal, req.Action, req.Resource)
		}
	}
	if d == policy.Allow || caller.Root {
		return "", nil
	}
	return "", fmt.Errorf("%w: no policy allows %s %s on %s", wormvault.ErrPermissionDenied, caller.Principal, req.Action, req.Resource)
}

// AuthorizeGlobal decides an action that concerns no vault (the admin
// service's): root is allowed unless denied, others need an identity
// policy allowing it (on resource "*").
func (s *Store) AuthorizeGlobal(caller Caller, action string) error {
	_, err := s.authorize(caller, access{action: action}, s.clock.Now().Time)
	return err
}

// mayBypassGovernance reports whether the caller is allowed
// wormvault:BypassGovernanceRetention on this version.
func (s *Store) mayBypassGovernance(caller Caller, vrec *recordv1.Vault, ver *recordv1.Version, now time.Time) bool {
	_, err := s.authorize(caller, access{action: "BypassGovernanceRetention", vault: vrec, key: ver.GetKey(), ver: ver}, now)
	return err == nil
}

// SetVaultAccessPolicy validates and stores a vault's access policy.
func (s *Store) SetVaultAccessPolicy(ctx context.Context, caller Caller, vault, doc string) error {
	if err := wormvault.ValidateVaultName("vault", vault); err != nil {
		return err
	}
	if _, err := policy.Parse([]byte(doc)); err != nil {
		return err
	}
	return s.updateVaultRecord(ctx, caller, vault, "SetVaultAccessPolicy", func(rec *recordv1.Vault, _ time.Time) (*recordv1.AuditEvent, error) {
		rec.AccessPolicy = doc
		return auditEvent(audit.KindAccessPolicySet, caller, vault, "", "", map[string]string{"policy": doc}), nil
	})
}

// GetVaultAccessPolicy returns a vault's access policy document.
func (s *Store) GetVaultAccessPolicy(ctx context.Context, caller Caller, vault string) (string, error) {
	rec, err := s.readVault(caller, vault, "GetVaultAccessPolicy")
	if err != nil {
		return "", err
	}
	if rec.GetAccessPolicy() == "" {
		return "", fmt.Errorf("vault.GetVaultAccessPolicy %s: %w", vault, wormvault.ErrNoAccessPolicy)
	}
	return rec.GetAccessPolicy(), nil
}

// DeleteVaultAccessPolicy removes a vault's access policy.
func (s *Store) DeleteVaultAccessPolicy(ctx context.Context, caller Caller, vault string) error {
	if err := wormvault.ValidateVaultName("vault", vault); err != nil {
		return err
	}
	return s.updateVaultRecord(ctx, caller, vault, "DeleteVaultAccessPolicy", func(rec *recordv1.Vault, _ time.Time) (*recordv1.AuditEvent, error) {
		if rec.GetAccessPolicy() == "" {
			return nil, wormvault.ErrNoAccessPolicy
		}
		rec.AccessPolicy = ""
		return auditEvent(audit.KindAccessPolicyDelete, caller, vault, "", "", nil), nil
	})
}

// InitiateVaultLock validates a lock policy and attaches it IN_PROGRESS.
func (s *Store) InitiateVaultLock(ctx context.Context, caller Caller, vault, doc string) (lock.VaultLock, error) {
	if err := wormvault.ValidateVaultName("vault", vault); err != nil {
		return lock.VaultLock{}, err
	}
	p, err := policy.Parse([]byte(doc))
	if err != nil {
		return lock.VaultLock{}, err
	}
	if err := p.CheckLockable(vault); err != nil {
		return lock.VaultLock{}, err
	}
	idb := make([]byte, 16)
	rand.Read(idb)
	var out lock.VaultLock
	err = s.updateVaultRecord(ctx, caller, vault, "InitiateVaultLock", func(rec *recordv1.Vault, now time.Time) (*recordv1.AuditEvent, error) {
		l, err := lock.InitiateVaultLock(now, vaultLockOf(rec), doc, hex.EncodeToString(idb))
		if err != nil {
			return nil, err
		}
		rec.VaultLock, out = vaultLockToRecord(l), l
		return auditEvent(audit.KindVaultLockInitiate, caller, vault, "", "", map[string]string{"lock_id": hex.EncodeToString(idb), "policy": doc}), nil
	})
	return out, err
}

// CompleteVaultLock locks the vault's lock policy forever.
func (s *Store) CompleteVaultLock(ctx context.Context, caller Caller, vault, lockID string) error {
	if err := wormvault.ValidateVaultName("vault", vault); err != nil {
		return err
	}
	var expired error
	err := s.updateVaultRecord(ctx, caller, vault, "CompleteVaultLock", func(rec *recordv1.Vault, now time.Time) (*recordv1.AuditEvent, error) {
		l, err := lock.CompleteVaultLock(now, vaultLockOf(rec), lockID)
		details := map[string]string{"lock_id": lockID}
		if errors.Is(err, wormvault.ErrLockExpired) {
			// The expired lock and its policy go, and the caller hears why.
			rec.VaultLock, expired = nil, err
			return auditEvent(audit.KindVaultLockExpire, caller, vault, "", "", details), nil
		}
		if err != nil {
			return nil, err
		}
		rec.VaultLock = vaultLockToRecord(l)
		return auditEvent(audit.KindVaultLockComplete, caller, vault, "", "", details), nil
	})
	if err == nil && expired != nil {
		return fmt.Errorf("vault.CompleteVaultLock %s: %w", vault, expired)
	}
	return err
}

// AbortVaultLock removes a lock that is still in progress.
func (s *Store) AbortVaultLock(ctx context.Context, caller Caller, vault string) error {
	if err := wormvault.ValidateVaultName("vault", vault); err != nil {
		return err
	}
	return s.updateVaultRecord(ctx, caller, vault, "AbortVaultLock", func(rec *recordv1.Vault, now time.Time) (*recordv1.AuditEvent, error) {
		lockID := rec.GetVaultLock().GetLockId()
		l, err := lock.AbortVaultLock(now, vaultLockOf(rec))
		if err != nil {
			return nil, err
		}
		rec.VaultLock = vaultLockToRecord(l)
		return auditEvent(audit.KindVaultLockAbort, caller, vault, "", "", map[string]string{"lock_id": lockID}), nil
	})
}

// GetVaultLock returns the vault's lock as it stands now.
func (s *Store) GetVaultLock(ctx context.Context, caller Caller, vault string) (lock.VaultLock, error) {
	rec, err := s.readVault(caller, vault, "GetVaultLock")
	if err != nil {
		return lock.VaultLock{}, err
	}
	l := vaultLockOf(rec).Effective(s.clock.Now().Time)
	if l.State == lock.VaultLockNone {
		return l, fmt.Errorf("vault.GetVaultLock %s: %w", vault, wormvault.ErrVaultLockNotFound)
	}
	return l, nil
}

// readVault loads a vault and authorizes a read of it.
func (s *Store) readVault(caller Caller, vault, action string) (*recordv1.Vault, error) {
	if err := wormvault.ValidateVaultName("vault", vault); err != nil {
		return nil, err
	}
	var rec *recordv1.Vault
	err := s.catalog.View(func(tx *catalog.Txn) (err error) {
		rec, err = tx.Vault(vault)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("vault.%s %s: %w", action, vault, err)
	}
	if _, err := s.authorize(caller, access{action: action, vault: rec}, s.clock.Now().Time); err != nil {
		return nil, fmt.Errorf("vault.%s %s: %w", action, vault, err)
	}
	return rec, nil
}

// updateVaultRecord authorizes action on a vault and applies change to its
// record in one transaction, at a trusted instant; the audit event change
// returns commits with it.
func (s *Store) updateVaultRecord(ctx context.Context, caller Caller, vault, action string, change func(*recordv1.Vault, time.Time) (*recordv1.AuditEvent, error)) error {
	err := s.commit(ctx, true, func(tx *catalog.Txn) ([]*journal.Entry, error) {
		rec, err := tx.Vault(vault)
		if err != nil {
			return nil, err
		}
		now, err := s.clock.Decide()
		if err != nil {
			return nil, err
		}
		if _, err := s.authorize(caller, access{action: action, vault: rec}, now.Time); err != nil {
			return nil, err
		}
		ev, err := change(rec, now.Time)
		if err != nil {
			return nil, err
		}
		return s.audited(tx, []*journal.Entry{vaultPut(now.Time, rec)}, tx.PutVault(rec), ev)
	})
	if err != nil {
		return fmt.Errorf("vault.%s %s: %w", action, vault, err)
	}
	return nil
}
