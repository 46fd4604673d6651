package vault

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/wormvault/wormvault"
	"github.com/wormvault/wormvault/cors"
	"github.com/wormvault/wormvault/lock"
	recordv1 "github.com/wormvault/wormvault/proto/wormvault/record/v1"
	"github.com/wormvault/wormvault/vault/audit"
	"github.com/wormvault/wormvault/vault/catalog"
	"github.com/wormvault/wormvault/vault/journal"
)

// VaultSettings are the mutable settings of a vault.
type VaultSettings struct {
	DefaultRetention wormvault.DefaultRetention
	// MaxRetention caps new retain-until times; zero means 100 years.
	MaxRetention time.Duration
	// MFADelete: permanent deletes, and turning this off, need MFA.
	MFADelete bool
	// DefaultEncryption applies to uploads that ask for no encryption
	// (SERVICE unless set otherwise).
	DefaultEncryption Encryption
	// Logging delivers the vault's access logs into another vault.
	Logging Logging
	// CORS says which web origins may call the vault's REST routes from a
	// browser; none by default.
	CORS cors.Rules
}

// Vault is a vault as callers see it.
type Vault struct {
	Name       string
	CreateTime time.Time
	VaultSettings
}

// NewVault is what CreateVaultWith creates.
type NewVault struct {
	Name             string
	DefaultRetention wormvault.DefaultRetention
	// DefaultEncryption applies to uploads that ask for no encryption;
	// the zero value means SERVICE.
	DefaultEncryption Encryption
}

// CreateVault creates an empty vault whose uploads default to SERVICE
// encryption.
func (s *Store) CreateVault(ctx context.Context, caller Caller, name string, def wormvault.DefaultRetention) (*Vault, error) {
	return s.CreateVaultWith(ctx, caller, NewVault{Name: name, DefaultRetention: def})
}

// CreateVaultWith creates an empty vault.
func (s *Store) CreateVaultWith(ctx context.Context, caller Caller, nv NewVault) (*Vault, error) {
	name, def := nv.Name, nv.DefaultRetention
	if err := wormvault.ValidateVaultName("name", name); err != nil {
		return nil, err
	}
	if err := s.checkEncryption("default_encryption", nv.DefaultEncryption, true); err != nil {
		return nil, err
	}
	if err := lock.ValidateDefaultRetention("default_retention", def); err != nil {
		return nil, err
	}
	if err := lock.CheckDefaultRetentionFits("default_retention", def, wormvault.MaxRetentionPeriod); err != nil {
		return nil, err
	}
	// The vault does not exist yet: policies see its name only.
	if _, err := s.authorize(caller, access{action: "CreateVault", vault: &recordv1.Vault{Name: name}}, s.clock.Now().Time); err != nil {
		return nil, fmt.Errorf("vault.CreateVault %s: %w", name, err)
	}
	rec := &recordv1.Vault{
		Name:              name,
		CreateTime:        timestamppb.New(s.clock.Now().Time),
		DefaultRetention:  defaultToRecord(def),
		MaxRetentionNanos: int64(wormvault.MaxRetentionPeriod),
	}
	err := s.commit(ctx, true, func(tx *catalog.Txn) ([]*journal.Entry, error) {
		exists, err := tx.VaultExists(name)
		if err != nil {
			return nil, err
		}
		if exists {
			return nil, fmt.Errorf("%w: %q", wormvault.ErrVaultExists, name)
		}
		if rec.DefaultEncryption, err = s.checkDefaultEncryption(tx, "default_encryption", nv.DefaultEncryption); err != nil {
			return nil, err
		}
		return s.audited(tx, []*journal.Entry{vaultPut(rec.GetCreateTime().AsTime(), rec)}, tx.PutVault(rec),
			auditEvent(audit.KindVaultCreate, caller, name, "", "", vaultSettingDetails(nil, rec)))
	})
	if err != nil {
		return nil, fmt.Errorf("vault.CreateVault %s: %w", name, err)
	}
	return vaultFromRecord(rec), nil
}

// GetVault returns one vault.
func (s *Store) GetVault(ctx context.Context, caller Caller, name string) (*Vault, error) {
	if err := wormvault.ValidateVaultName("name", name); err != nil {
		return nil, err
	}
	rec, err := s.readVault(caller, name, "GetVault")
	if err != nil {
		return nil, err
	}
	return vaultFromRecord(rec), nil
}

// ListVaults returns up to limit vaults named after `after`, in name order,
// and whether more follow.
func (s *Store) ListVaults(ctx context.Context, caller Caller, after string, limit int) ([]*Vault, bool, error) {
	if _, err := s.authorize(caller, access{action: "ListVaults"}, s.clock.Now().Time); err != nil {
		return nil, false, fmt.Errorf("vault.ListVaults: %w", err)
	}
	var recs []*recordv1.Vault
	if err := s.catalog.View(func(tx *catalog.Txn) (err error) {
		recs, err = tx.Vaults(after, limit+1)
		return err
	}); err != nil {
		return nil, false, fmt.Errorf("vault.ListVaults: %w", err)
	}
	more := len(recs) > limit
	if more {
		recs = recs[:limit]
	}
	out := make([]*Vault, len(recs))
	for i, r := range recs {
		out[i] = vaultFromRecord(r)
	}
	return out, more, nil
}

// VaultUpdate names the settings to change; nil fields stay as they are.
type VaultUpdate struct {
	DefaultRetention *wormvault.DefaultRetention
	MaxRetention     *time.Duration
	// MFADelete may be changed only by root, with MFA, either way.
	MFADelete *bool
	// DefaultEncryption applies to later uploads that ask for none; the
	// zero value means SERVICE.
	DefaultEncryption *Encryption
	// Logging turns access logging on (a target vault) or off (none).
	Logging *Logging
	// CORS replaces the vault's CORS rules; empty removes them.
	CORS *cors.Rules
}

// UpdateVault changes a vault's settings. Changes never affect versions
// already stored.
func (s *Store) UpdateVault(ctx context.Context, caller Caller, name string, u VaultUpdate) (*Vault, error) {
	if err := wormvault.ValidateVaultName("vault.name", name); err != nil {
		return nil, err
	}
	if u.DefaultRetention != nil {
		if err := lock.ValidateDefaultRetention("vault.default_retention", *u.DefaultRetention); err != nil {
			return nil, err
		}
	}
	if u.MaxRetention != nil {
		if err := lock.ValidateMaxRetention("vault.max_retention", *u.MaxRetention); err != nil {
			return nil, err
		}
	}
	if u.DefaultEncryption != nil {
		if err := s.checkEncryption("vault.default_encryption", *u.DefaultEncryption, true); err != nil {
			return nil, err
		}
	}
	if u.Logging != nil {
		if err := validateLogging(name, *u.Logging); err != nil {
			return nil, err
		}
	}
	if u.CORS != nil {
		if err := u.CORS.Validate("vault.cors"); err != nil {
			return nil, err
		}
	}
	var rec *recordv1.Vault
	err := s.commit(ctx, true, func(tx *catalog.Txn) (_ []*journal.Entry, err error) {
		rec, err = tx.Vault(name)
		if err != nil {
			return nil, err
		}
		old := proto.Clone(rec).(*recordv1.Vault)
		now := s.clock.Now().Time
		if _, err := s.authorize(caller, access{action: "UpdateVault", vault: rec}, now); err != nil {
			return nil, err
		}
		if u.MaxRetention != nil {
			if err := lock.CheckMaxRetentionChange(time.Duration(rec.GetMaxRetentionNanos()), *u.MaxRetention, caller.Root); err != nil {
				return nil, err
			}
			rec.MaxRetentionNanos = int64(*u.MaxRetention)
		}
		if u.DefaultRetention != nil {
			rec.DefaultRetention = defaultToRecord(*u.DefaultRetention)
		}
		if u.MFADelete != nil {
			if err := checkMFADeleteChange(caller); err != nil {
				return nil, err
			}
			rec.MfaDelete = *u.MFADelete
		}
		if u.DefaultEncryption != nil {
			if rec.DefaultEncryption, err = s.checkDefaultEncryption(tx, "vault.default_encryption", *u.DefaultEncryption); err != nil {
				return nil, err
			}
		}
		if u.Logging != nil {
			if err := s.checkLoggingTarget(tx, caller, *u.Logging, now); err != nil {
				return nil, err
			}
			rec.Logging = loggingToRecord(*u.Logging)
		}
		if u.CORS != nil {
			rec.Cors = corsToRecord(*u.CORS)
		}
		def := defaultFromRecord(rec.GetDefaultRetention())
		if err := lock.CheckDefaultRetentionFits("vault.default_retention", def, time.Duration(rec.GetMaxRetentionNanos())); err != nil {
			return nil, err
		}
		evs := []*recordv1.AuditEvent{auditEvent(audit.KindVaultUpdate, caller, name, "", "", vaultSettingDetails(old, rec))}
		if u.MFADelete != nil && old.GetMfaDelete() != rec.GetMfaDelete() {
			evs = append(evs, auditEvent(audit.KindMFADeleteSet, caller, name, "", "", map[string]string{
				"old_mfa_delete": strconv.FormatBool(old.GetMfaDelete()), "new_mfa_delete": strconv.FormatBool(rec.GetMfaDelete()),
			}))
		}
		return s.audited(tx, []*journal.Entry{vaultPut(now, rec)}, tx.PutVault(rec), evs...)
	})
	if err != nil {
		return nil, fmt.Errorf("vault.UpdateVault %s: %w", name, err)
	}
	if u.Logging != nil {
		s.loggingChanged()
	}
	return vaultFromRecord(rec), nil
}

// DeleteVault deletes a vault that holds no versions, delete markers
// included. There is no force.
func (s *Store) DeleteVault(ctx context.Context, caller Caller, name string) error {
	if err := wormvault.ValidateVaultName("name", name); err != nil {
		return err
	}
	// Records being made when the deletion starts are committed before
	// its check for records aimed at the vault (accessLogs.inflight).
	s.accessLogs.inflight.Lock()
	defer s.accessLogs.inflight.Unlock()
	err := s.commit(ctx, true, func(tx *catalog.Txn) ([]*journal.Entry, error) {
		rec, err := tx.Vault(name)
		if err != nil {
			return nil, err
		}
		now := s.clock.Now().Time
		if _, err := s.authorize(caller, access{action: "DeleteVault", vault: rec}, now); err != nil {
			return nil, err
		}
		if err := lock.CheckDeleteVault(now, vaultLockOf(rec)); err != nil {
			return nil, err
		}
		has, err := tx.HasVersions(name)
		if err != nil {
			return nil, err
		}
		if has {
			return nil, fmt.Errorf("%w: %q", wormvault.ErrVaultNotEmpty, name)
		}
		if err := s.checkNotLogTarget(tx, name); err != nil {
			return nil, err
		}
		if err := checkNoAccessPoints(tx, name); err != nil {
			return nil, err
		}
		return s.audited(tx, []*journal.Entry{vaultDelete(now, name)}, tx.DeleteVault(name),
			auditEvent(audit.KindVaultDelete, caller, name, "", "", nil))
	})
	if err != nil {
		return fmt.Errorf("vault.DeleteVault %s: %w", name, err)
	}
	// The vault may have been logging: forget its setting (inflight is
	// held already).
	s.reloadLoggingConfigs()
	return nil
}

func vaultFromRecord(r *recordv1.Vault) *Vault {
	return &Vault{
		Name:       r.GetName(),
		CreateTime: r.GetCreateTime().AsTime(),
		VaultSettings: VaultSettings{
			DefaultRetention:  defaultFromRecord(r.GetDefaultRetention()),
			MaxRetention:      maxRetention(r),
			MFADelete:         r.GetMfaDelete(),
			DefaultEncryption: defaultEncryption(r),
			Logging:           loggingFromRecord(r.GetLogging()),
			CORS:              corsFromRecord(r.GetCors()),
		},
	}
}

func maxRetention(r *recordv1.Vault) time.Duration {
	if r.GetMaxRetentionNanos() <= 0 {
		return wormvault.MaxRetentionPeriod
	}
	return time.Duration(r.GetMaxRetentionNanos())
}

func defaultToRecord(d wormvault.DefaultRetention) *recordv1.DefaultRetention {
	if d.IsZero() {
		return nil
	}
	return &recordv1.DefaultRetention{Mode: recordv1.RetentionMode(d.Mode), Days: d.Days, Years: d.Years}
}

func defaultFromRecord(d *recordv1.DefaultRetention) wormvault.DefaultRetention {
	if d == nil {
		return wormvault.DefaultRetention{}
	}
	return wormvault.DefaultRetention{Mode: wormvault.RetentionMode(d.GetMode()), Days: d.GetDays(), Years: d.GetYears()}
}

// vaultSettingDetails describes a vault's settings for VAULT_CREATE (old
// nil: new values only) and VAULT_UPDATE (old and new values).
func vaultSettingDetails(old, new *recordv1.Vault) map[string]string {
	d := map[string]string{}
	put := func(prefix string, r *recordv1.Vault) {
		d[prefix+"default_retention"] = ""
		if def := defaultFromRecord(r.GetDefaultRetention()); !def.IsZero() {
			d[prefix+"default_retention"] = fmt.Sprintf("%s %dd %dy", def.Mode, def.Days, def.Years)
		}
		d[prefix+"max_retention"] = maxRetention(r).String()
		d[prefix+"mfa_delete"] = strconv.FormatBool(r.GetMfaDelete())
		d[prefix+"default_encryption"] = encryptionDetail(defaultEncryption(r))
		d[prefix+"logging"] = loggingDetail(r.GetLogging())
		d[prefix+"cors"] = corsDetail(r.GetCors())
	}
	if old != nil {
		put("old_", old)
	}
	put("new_", new)
	return d
}
