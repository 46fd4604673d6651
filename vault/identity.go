package vault

import (
	"context"
	"fmt"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/wormvault/wormvault"
	"github.com/wormvault/wormvault/lock/policy"
	recordv1 "github.com/wormvault/wormvault/proto/wormvault/record/v1"
	"github.com/wormvault/wormvault/vault/audit"
	"github.com/wormvault/wormvault/vault/catalog"
	"github.com/wormvault/wormvault/vault/journal"
)

// MaxPrincipalNameLen bounds principal names.
const MaxPrincipalNameLen = 64

// ValidatePrincipalName checks a principal name: 1-64 letters, digits and
// "._@-", not "root" (which always exists and has no record).
func ValidatePrincipalName(field, name string) error {
	if len(name) == 0 || len(name) > MaxPrincipalNameLen {
		return wormvault.InvalidArgument(field, "principal name must be 1-%d characters", MaxPrincipalNameLen)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '@' || c == '-') {
			return wormvault.InvalidArgument(field, "principal name may contain only letters, digits and ._@-, found %q", c)
		}
	}
	return nil
}

// Principal is an identity as callers see it.
type Principal struct {
	Name       string
	CreateTime time.Time
	Policy     string
}

// AccessKey describes a credential (never its secret).
type AccessKey struct {
	KeyID, Principal string
	CreateTime       time.Time
}

// callerFor builds the caller for a principal from the catalog.
func callerFor(tx *catalog.Txn, name string) (Caller, error) {
	if name == RootPrincipal {
		return Caller{Principal: RootPrincipal, Root: true}, nil
	}
	p, ok, err := tx.Principal(name)
	if err != nil {
		return Caller{}, err
	}
	if !ok {
		return Caller{}, fmt.Errorf("%w: principal %q does not exist", wormvault.ErrUnauthenticated, name)
	}
	return Caller{Principal: name, identityPolicy: p.GetPolicy()}, nil
}

// CallerForPrincipal resolves a principal named by a verified client
// certificate. Unknown principals are unauthenticated.
func (s *Store) CallerForPrincipal(ctx context.Context, name string) (Caller, error) {
	var c Caller
	err := s.catalog.View(func(tx *catalog.Txn) (err error) {
		c, err = callerFor(tx, name)
		return err
	})
	return c, err
}

// CreatePrincipal creates a principal with no keys and no policy.
func (s *Store) CreatePrincipal(ctx context.Context, caller Caller, name string) (*Principal, error) {
	if err := ValidatePrincipalName("name", name); err != nil {
		return nil, err
	}
	if name == RootPrincipal {
		return nil, fmt.Errorf("%w: principal \"root\" always exists", wormvault.ErrAlreadyExists)
	}
	rec := &recordv1.Principal{Name: name}
	err := s.commit(ctx, true, func(tx *catalog.Txn) ([]*journal.Entry, error) {
		now := s.clock.Now().Time
		if _, err := s.authorize(caller, access{action: "CreatePrincipal"}, now); err != nil {
			return nil, err
		}
		if _, ok, err := tx.Principal(name); err != nil || ok {
			if ok {
				return nil, fmt.Errorf("%w: principal %q", wormvault.ErrAlreadyExists, name)
			}
			return nil, err
		}
		rec.CreateTime = timestamppb.New(now)
		return s.audited(tx, []*journal.Entry{principalPut(now, rec)}, tx.PutPrincipal(rec),
			auditEvent(audit.KindPrincipalCreate, caller, "", "", "", map[string]string{"name": name}))
	})
	if err != nil {
		return nil, fmt.Errorf("vault.CreatePrincipal %s: %w", name, err)
	}
	return principalFromRecord(rec), nil
}

func principalFromRecord(p *recordv1.Principal) *Principal {
	return &Principal{Name: p.GetName(), CreateTime: p.GetCreateTime().AsTime(), Policy: p.GetPolicy()}
}

// readPrincipal authorizes action and loads a principal ("root" included).
func (s *Store) readPrincipal(caller Caller, action, name string) (*Principal, error) {
	if name != RootPrincipal {
		if err := ValidatePrincipalName("name", name); err != nil {
			return nil, err
		}
	}
	if _, err := s.authorize(caller, access{action: action}, s.clock.Now().Time); err != nil {
		return nil, err
	}
	if name == RootPrincipal {
		return &Principal{Name: RootPrincipal}, nil
	}
	var rec *recordv1.Principal
	err := s.catalog.View(func(tx *catalog.Txn) error {
		p, ok, err := tx.Principal(name)
		if err == nil && !ok {
			err = fmt.Errorf("%w: principal %q", wormvault.ErrNotFound, name)
		}
		rec = p
		return err
	})
	if err != nil {
		return nil, err
	}
	return principalFromRecord(rec), nil
}

// GetPrincipal returns a principal.
func (s *Store) GetPrincipal(ctx context.Context, caller Caller, name string) (*Principal, error) {
	p, err := s.readPrincipal(caller, "GetPrincipal", name)
	if err != nil {
		return nil, fmt.Errorf("vault.GetPrincipal %s: %w", name, err)
	}
	return p, nil
}

// ListPrincipals lists principals after `after`, root first on the first
// page, and whether more follow.
func (s *Store) ListPrincipals(ctx context.Context, caller Caller, after string, limit int) ([]*Principal, bool, error) {
	if _, err := s.authorize(caller, access{action: "ListPrincipals"}, s.clock.Now().Time); err != nil {
		return nil, false, fmt.Errorf("vault.ListPrincipals: %w", err)
	}
	var recs []*recordv1.Principal
	if err := s.catalog.View(func(tx *catalog.Txn) (err error) {
		recs, err = tx.Principals(after, limit+1)
		return err
	}); err != nil {
		return nil, false, err
	}
	more := len(recs) > limit
	if more {
		recs = recs[:limit]
	}
	var out []*Principal
	if after == "" {
		out = append(out, &Principal{Name: RootPrincipal})
	}
	for _, r := range recs {
		out = append(out, principalFromRecord(r))
	}
	return out, more, nil
}

// DeletePrincipal deletes a principal and all its access keys. Root cannot
// be deleted.
func (s *Store) DeletePrincipal(ctx context.Context, caller Caller, name string) error {
	if name == RootPrincipal {
		return fmt.Errorf("vault.DeletePrincipal: %w: root cannot be deleted", wormvault.ErrFailedPrecondition)
	}
	if err := ValidatePrincipalName("name", name); err != nil {
		return err
	}
	err := s.commit(ctx, true, func(tx *catalog.Txn) ([]*journal.Entry, error) {
		now := s.clock.Now().Time
		if _, err := s.authorize(caller, access{action: "DeletePrincipal"}, now); err != nil {
			return nil, err
		}
		if _, ok, err := tx.Principal(name); err != nil || !ok {
			if err == nil {
				err = fmt.Errorf("%w: principal %q", wormvault.ErrNotFound, name)
			}
			return nil, err
		}
		keys, err := tx.AccessKeysOf(name)
		if err != nil {
			return nil, err
		}
		var entries []*journal.Entry
		var keyIDs []string
		for _, k := range keys {
			if err := tx.DeleteAccessKey(k.GetKeyId()); err != nil {
				return nil, err
			}
			entries = append(entries, accessKeyDelete(now, k.GetKeyId()))
			keyIDs = append(keyIDs, k.GetKeyId())
		}
		return s.audited(tx, append(entries, principalDelete(now, name)), tx.DeletePrincipal(name),
			auditEvent(audit.KindPrincipalDelete, caller, "", "", "", map[string]string{"name": name, "access_keys_deleted": strings.Join(keyIDs, ",")}))
	})
	if err != nil {
		return fmt.Errorf("vault.DeletePrincipal %s: %w", name, err)
	}
	return nil
}

// CreateAccessKey creates a key for a principal and returns its token; the
// secret is shown once and stored only as a hash.
func (s *Store) CreateAccessKey(ctx context.Context, caller Caller, principal string) (AccessKey, string, error) {
	if principal != RootPrincipal {
		if err := ValidatePrincipalName("principal", principal); err != nil {
			return AccessKey{}, "", err
		}
	}
	rec, secret, err := newAccessKey(principal)
	if err != nil {
		return AccessKey{}, "", err
	}
	err = s.commit(ctx, true, func(tx *catalog.Txn) ([]*journal.Entry, error) {
		now := s.clock.Now().Time
		if _, err := s.authorize(caller, access{action: "CreateAccessKey"}, now); err != nil {
			return nil, err
		}
		if principal != RootPrincipal {
			if _, ok, err := tx.Principal(principal); err != nil || !ok {
				if err == nil {
					err = fmt.Errorf("%w: principal %q", wormvault.ErrNotFound, principal)
				}
				return nil, err
			}
		}
		return s.audited(tx, []*journal.Entry{accessKeyPut(now, rec)}, tx.PutAccessKey(rec),
			auditEvent(audit.KindAccessKeyCreate, caller, "", "", "", map[string]string{"principal": principal, "key_id": rec.GetKeyId()}))
	})
	if err != nil {
		return AccessKey{}, "", fmt.Errorf("vault.CreateAccessKey %s: %w", principal, err)
	}
	return AccessKey{KeyID: rec.GetKeyId(), Principal: principal, CreateTime: rec.GetCreateTime().AsTime()}, Token(rec.GetKeyId(), secret), nil
}

// ListAccessKeys lists a principal's keys (never their secrets).
func (s *Store) ListAccessKeys(ctx context.Context, caller Caller, principal string) ([]AccessKey, error) {
	if _, err := s.readPrincipal(caller, "ListAccessKeys", principal); err != nil {
		return nil, fmt.Errorf("vault.ListAccessKeys %s: %w", principal, err)
	}
	var out []AccessKey
	err := s.catalog.View(func(tx *catalog.Txn) error {
		keys, err := tx.AccessKeysOf(principal)
		for _, k := range keys {
			out = append(out, AccessKey{KeyID: k.GetKeyId(), Principal: k.GetPrincipal(), CreateTime: k.GetCreateTime().AsTime()})
		}
		return err
	})
	return out, err
}

// DeleteAccessKey deletes a key. Root's last key cannot be deleted (rotate
// it instead), so root is never locked out.
func (s *Store) DeleteAccessKey(ctx context.Context, caller Caller, keyID string) error {
	err := s.commit(ctx, true, func(tx *catalog.Txn) ([]*journal.Entry, error) {
		now := s.clock.Now().Time
		if _, err := s.authorize(caller, access{action: "DeleteAccessKey"}, now); err != nil {
			return nil, err
		}
		k, ok, err := tx.AccessKey(keyID)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("%w: access key %q", wormvault.ErrNotFound, keyID)
		}
		if k.GetPrincipal() == RootPrincipal {
			keys, err := tx.AccessKeysOf(RootPrincipal)
			if err != nil {
				return nil, err
			}
			if len(keys) <= 1 {
				return nil, fmt.Errorf("%w: that is root's last access key; rotate it instead", wormvault.ErrFailedPrecondition)
			}
		}
		return s.audited(tx, []*journal.Entry{accessKeyDelete(now, keyID)}, tx.DeleteAccessKey(keyID),
			auditEvent(audit.KindAccessKeyDelete, caller, "", "", "", map[string]string{"principal": k.GetPrincipal(), "key_id": keyID}))
	})
	if err != nil {
		return fmt.Errorf("vault.DeleteAccessKey %s: %w", keyID, err)
	}
	return nil
}

// SetPrincipalPolicy validates and stores a principal's identity policy
// (empty removes it). Root has no identity policy: it is allowed by default
// and bound only by denials.
func (s *Store) SetPrincipalPolicy(ctx context.Context, caller Caller, principal, doc string) error {
	if principal == RootPrincipal {
		return wormvault.InvalidArgument("principal", "root has no identity policy")
	}
	if err := ValidatePrincipalName("principal", principal); err != nil {
		return err
	}
	if doc != "" {
		if _, err := policy.Parse([]byte(doc)); err != nil {
			return err
		}
	}
	err := s.commit(ctx, true, func(tx *catalog.Txn) ([]*journal.Entry, error) {
		now := s.clock.Now().Time
		if _, err := s.authorize(caller, access{action: "SetPrincipalPolicy"}, now); err != nil {
			return nil, err
		}
		p, ok, err := tx.Principal(principal)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("%w: principal %q", wormvault.ErrNotFound, principal)
		}
		p.Policy = doc
		return s.audited(tx, []*journal.Entry{principalPut(now, p)}, tx.PutPrincipal(p),
			auditEvent(audit.KindPrincipalPolicySet, caller, "", "", "", map[string]string{"name": principal, "policy": doc}))
	})
	if err != nil {
		return fmt.Errorf("vault.SetPrincipalPolicy %s: %w", principal, err)
	}
	return nil
}

// GetPrincipalPolicy returns a principal's identity policy ("" when none).
func (s *Store) GetPrincipalPolicy(ctx context.Context, caller Caller, principal string) (string, error) {
	p, err := s.readPrincipal(caller, "GetPrincipalPolicy", principal)
	if err != nil {
		return "", fmt.Errorf("vault.GetPrincipalPolicy %s: %w", principal, err)
	}
	return p.Policy, nil
}

// RotateRootKey creates a new root key, deletes every other root key and
// rewrites the credentials file. Root only.
func (s *Store) RotateRootKey(ctx context.Context, caller Caller, credentialsPath string) (string, error) {
	if !caller.Root {
		return "", fmt.Errorf("%w: only root may rotate root's key", wormvault.ErrPermissionDenied)
	}
	rec, secret, err := newAccessKey(RootPrincipal)
	if err != nil {
		return "", err
	}
	token := Token(rec.GetKeyId(), secret)
	err = s.commit(ctx, true, func(tx *catalog.Txn) ([]*journal.Entry, error) {
		now := s.clock.Now().Time
		old, err := tx.AccessKeysOf(RootPrincipal)
		if err != nil {
			return nil, err
		}
		entries := []*journal.Entry{accessKeyPut(now, rec)}
		var oldIDs []string
		for _, k := range old {
			if err := tx.DeleteAccessKey(k.GetKeyId()); err != nil {
				return nil, err
			}
			entries = append(entries, accessKeyDelete(now, k.GetKeyId()))
			oldIDs = append(oldIDs, k.GetKeyId())
		}
		return s.audited(tx, entries, tx.PutAccessKey(rec),
			auditEvent(audit.KindRootKeyRotate, caller, "", "", "", map[string]string{"key_id": rec.GetKeyId(), "deleted_key_ids": strings.Join(oldIDs, ",")}))
	})
	if err != nil {
		return "", fmt.Errorf("vault.RotateRootKey: %w", err)
	}
	content := fmt.Sprintf("# wormvault root access key, rotated %s.\n# Keep it secret: it can do everything the WORM rules allow.\n%s\n",
		time.Now().UTC().Format(time.RFC3339), token)
	if err := writeFileDurable(credentialsPath, []byte(content), 0o600); err != nil {
		// The key is rotated either way; the caller has the token.
		s.log.Error("root key rotated but the credentials file could not be rewritten", "path", credentialsPath, "err", err)
	}
	return token, nil
}
