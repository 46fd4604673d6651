package vault

import (
	"context"
	"fmt"
	"net/netip"
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

// Access points are named entry points to a vault. An archive request
// names one as its vault, "ap/NAME"; resolveVault turns that into the
// vault, after checking the request's source address against the access
// point's network origin, and hands the caller on with the access point's
// name and policy, which authorize then adds to the policies it decides by
// (policy.go states the rule). Access points never widen anything: every
// lock rule and every policy that binds a direct request binds a request
// through an access point too.
//
// Records live in the catalog (ap/<name>), are journaled as
// access_point_put and access_point_delete entries, and are audited in the
// same commit (ACCESS_POINT_CREATE, ACCESS_POINT_POLICY_SET,
// ACCESS_POINT_DELETE), so a catalog rebuild restores them. Their names
// are their own namespace: "ap/" cannot start a vault name.
//
// The policy uses the vault access policy language and the vault's own
// resources ("vaults/VAULT", "vaults/VAULT/archives/KEY"): an access point
// is a door to the vault, not a resource of its own, so statements naming
// other vaults simply never apply. It may be empty: then no statement
// allows anything, and only root may use the access point.
//
// The network origin must name at least one CIDR: an access point open to
// every address is a direct request with extra steps, and an empty list
// left by mistake should not mean "anywhere". 0.0.0.0/0 and ::/0 say so
// explicitly.

// MaxAllowedCIDRs bounds an access point's network origin.
const MaxAllowedCIDRs = 100

// AccessPoint is an access point as callers see it.
type AccessPoint struct {
	Name  string
	Vault string
	// Policy is the policy document, "" for none.
	Policy string
	// AllowedCIDRs are the prefixes, canonical, a request must come from.
	AllowedCIDRs []netip.Prefix
	CreateTime   time.Time
}

// NewAccessPoint is what CreateAccessPoint creates.
type NewAccessPoint struct {
	Name, Vault string
	// Policy is a policy document, or "" for none.
	Policy string
	// AllowedCIDRs are CIDRs such as "10.0.0.0/8"; at least one.
	AllowedCIDRs []string
}

func accessPointFromRecord(r *recordv1.AccessPoint) *AccessPoint {
	ap := &AccessPoint{Name: r.GetName(), Vault: r.GetVault(), Policy: r.GetPolicy(), CreateTime: r.GetCreateTime().AsTime()}
	for _, c := range r.GetAllowedCidrs() {
		if p, err := netip.ParsePrefix(c); err == nil {
			ap.AllowedCIDRs = append(ap.AllowedCIDRs, p)
		}
	}
	return ap
}

// parseAllowedCIDRs validates a network origin and returns its prefixes in
// canonical form (host bits cleared), duplicates dropped.
func parseAllowedCIDRs(field string, cidrs []string) ([]string, error) {
	if len(cidrs) == 0 {
		return nil, wormvault.InvalidArgument(field, "name at least one CIDR the access point's requests may come from (0.0.0.0/0 and ::/0 for anywhere)")
	}
	if len(cidrs) > MaxAllowedCIDRs {
		return nil, wormvault.InvalidArgument(field, "at most %d CIDRs, got %d", MaxAllowedCIDRs, len(cidrs))
	}
	out := make([]string, 0, len(cidrs))
	seen := map[netip.Prefix]bool{}
	for i, c := range cidrs {
		p, err := netip.ParsePrefix(strings.TrimSpace(c))
		if err != nil || p.Addr().Zone() != "" {
			return nil, wormvault.InvalidArgument(field, "[%d] %q is not a CIDR such as 10.0.0.0/8 or 2001:db8::/32 (a single address is 192.0.2.7/32)", i, c)
		}
		p = p.Masked()
		if !seen[p] {
			seen[p] = true
			out = append(out, p.String())
		}
	}
	return out, nil
}

// validateAccessPointPolicy checks a policy document; "" means none.
func validateAccessPointPolicy(doc string) error {
	if doc == "" {
		return nil
	}
	_, err := policy.Parse([]byte(doc))
	return err
}

// inNetworkOrigin reports whether the source address is in one of the
// access point's CIDRs. An address that does not parse is in none.
func inNetworkOrigin(ap *recordv1.AccessPoint, sourceIP string) bool {
	addr, err := netip.ParseAddr(sourceIP)
	if err != nil {
		return false
	}
	// An IPv4 client on a dual-stack socket arrives as ::ffff:a.b.c.d.
	addr = addr.Unmap().WithZone("")
	for _, c := range ap.GetAllowedCidrs() {
		if p, err := netip.ParsePrefix(c); err == nil && p.Contains(addr) {
			return true
		}
	}
	return false
}

// resolveVault turns the vault an archive request names (field ref) into
// the vault it acts on. A vault name is itself; "ap/NAME" is the access
// point's vault, for a request whose source address is in the access
// point's network origin (else wormvault.ErrNetworkOrigin). The caller
// returned carries the access point's name and policy, for authorize; a
// direct request's caller carries none, whatever it came with.
//
// The access point is read here, before the operation's own transaction:
// a policy change racing a request is decided either way, as with every
// other policy.
func (s *Store) resolveVault(caller Caller, field, ref string) (Caller, string, error) {
	caller.AccessPoint, caller.accessPointPolicy = "", ""
	if err := wormvault.ValidateVaultRef(field, ref); err != nil {
		return caller, "", err
	}
	name, ok := wormvault.AccessPointOf(ref)
	if !ok {
		return caller, ref, nil
	}
	var ap *recordv1.AccessPoint
	if err := s.catalog.View(func(tx *catalog.Txn) (err error) {
		ap, err = tx.AccessPoint(name)
		return err
	}); err != nil {
		return caller, "", err
	}
	if !inNetworkOrigin(ap, caller.SourceIP) {
		return caller, "", fmt.Errorf("%w: %q is not in the allowed CIDRs of access point %q", wormvault.ErrNetworkOrigin, caller.SourceIP, name)
	}
	caller.AccessPoint, caller.accessPointPolicy = name, ap.GetPolicy()
	return caller, ap.GetVault(), nil
}

// AccessPointVault returns the vault of the access point a request names
// ("ap/NAME"), for the access log and CORS. An error wraps
// wormvault.ErrNotFound when ref names no access point that exists; any
// other is a failure to read the catalog.
func (s *Store) AccessPointVault(ref string) (vault, name string, err error) {
	name, isAP := wormvault.AccessPointOf(ref)
	if !isAP || wormvault.ValidateAccessPointName("", name) != nil {
		return "", "", fmt.Errorf("vault.AccessPointVault %q: %w: not an access point", ref, wormvault.ErrNotFound)
	}
	err = s.catalog.View(func(tx *catalog.Txn) error {
		ap, err := tx.AccessPoint(name)
		vault = ap.GetVault()
		return err
	})
	if err != nil {
		return "", "", fmt.Errorf("vault.AccessPointVault %s: %w", name, err)
	}
	return vault, name, nil
}

func accessPointPut(now time.Time, ap *recordv1.AccessPoint) *journal.Entry {
	e := entryAt(now)
	e.Change = &recordv1.JournalEntry_AccessPointPut{AccessPointPut: ap}
	return e
}

func accessPointDelete(now time.Time, name string) *journal.Entry {
	e := entryAt(now)
	e.Change = &recordv1.JournalEntry_AccessPointDelete{AccessPointDelete: &recordv1.JournalAccessPointDelete{Name: name}}
	return e
}

// accessPointEvent describes an access point's management event.
func accessPointEvent(kind string, caller Caller, ap *recordv1.AccessPoint, details map[string]string) *recordv1.AuditEvent {
	d := map[string]string{"access_point": ap.GetName()}
	for k, v := range details {
		d[k] = v
	}
	return auditEvent(kind, caller, ap.GetVault(), "", "", d)
}

// CreateAccessPoint creates an access point to an existing vault; the
// caller needs wormvault:CreateAccessPoint on the vault.
func (s *Store) CreateAccessPoint(ctx context.Context, caller Caller, na NewAccessPoint) (*AccessPoint, error) {
	ap, err := s.createAccessPoint(ctx, caller, na)
	if err != nil {
		return nil, fmt.Errorf("vault.CreateAccessPoint %s: %w", na.Name, err)
	}
	return ap, nil
}

func (s *Store) createAccessPoint(ctx context.Context, caller Caller, na NewAccessPoint) (*AccessPoint, error) {
	if err := wormvault.ValidateAccessPointName("name", na.Name); err != nil {
		return nil, err
	}
	if err := wormvault.ValidateVaultName("vault", na.Vault); err != nil {
		return nil, err
	}
	if err := validateAccessPointPolicy(na.Policy); err != nil {
		return nil, err
	}
	cidrs, err := parseAllowedCIDRs("network_origin.allowed_cidrs", na.AllowedCIDRs)
	if err != nil {
		return nil, err
	}
	var rec *recordv1.AccessPoint
	err = s.commit(ctx, true, func(tx *catalog.Txn) ([]*journal.Entry, error) {
		vrec, err := tx.Vault(na.Vault)
		if err != nil {
			return nil, err
		}
		now := s.clock.Now().Time
		if _, err := s.authorize(caller, access{action: "CreateAccessPoint", vault: vrec}, now); err != nil {
			return nil, err
		}
		if _, err := tx.AccessPoint(na.Name); err == nil {
			return nil, fmt.Errorf("%w: %q", wormvault.ErrAccessPointExists, na.Name)
		}
		rec = &recordv1.AccessPoint{Name: na.Name, Vault: na.Vault, Policy: na.Policy, AllowedCidrs: cidrs, CreateTime: timestamppb.New(now)}
		return s.audited(tx, []*journal.Entry{accessPointPut(now, rec)}, tx.PutAccessPoint(rec),
			accessPointEvent(audit.KindAccessPointCreate, caller, rec, map[string]string{"policy": na.Policy, "allowed_cidrs": strings.Join(cidrs, ",")}))
	})
	if err != nil {
		return nil, err
	}
	return accessPointFromRecord(rec), nil
}

// loadAccessPoint reads an access point and its vault's record (or a
// stand-in naming the vault, should the record be missing) for
// authorization.
func loadAccessPoint(tx *catalog.Txn, name string) (*recordv1.AccessPoint, *recordv1.Vault, error) {
	ap, err := tx.AccessPoint(name)
	if err != nil {
		return nil, nil, err
	}
	vrec, err := tx.Vault(ap.GetVault())
	if err != nil {
		// Deleting a vault is refused while access points lead to it;
		// policies still see the vault's name.
		vrec = &recordv1.Vault{Name: ap.GetVault()}
	}
	return ap, vrec, nil
}

// GetAccessPoint returns one access point; the caller needs
// wormvault:GetAccessPoint on its vault.
func (s *Store) GetAccessPoint(ctx context.Context, caller Caller, name string) (*AccessPoint, error) {
	if err := wormvault.ValidateAccessPointName("name", name); err != nil {
		return nil, err
	}
	var rec *recordv1.AccessPoint
	err := s.catalog.View(func(tx *catalog.Txn) error {
		ap, vrec, err := loadAccessPoint(tx, name)
		if err != nil {
			return err
		}
		if _, err := s.authorize(caller, access{action: "GetAccessPoint", vault: vrec}, s.clock.Now().Time); err != nil {
			return err
		}
		rec = ap
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("vault.GetAccessPoint %s: %w", name, err)
	}
	return accessPointFromRecord(rec), nil
}

// ListAccessPoints returns up to limit access points named after `after`,
// in name order, and whether more follow. With vault set, only that
// vault's, and the caller needs wormvault:ListAccessPoints on it; without,
// on "*".
func (s *Store) ListAccessPoints(ctx context.Context, caller Caller, vault, after string, limit int) ([]*AccessPoint, bool, error) {
	if vault != "" {
		if err := wormvault.ValidateVaultName("vault", vault); err != nil {
			return nil, false, err
		}
	}
	var recs []*recordv1.AccessPoint
	err := s.catalog.View(func(tx *catalog.Txn) error {
		a := access{action: "ListAccessPoints"}
		if vault != "" {
			vrec, err := tx.Vault(vault)
			if err != nil {
				return err
			}
			a.vault = vrec
		}
		if _, err := s.authorize(caller, a, s.clock.Now().Time); err != nil {
			return err
		}
		var err error
		recs, err = tx.AccessPoints(vault, after, limit+1)
		return err
	})
	if err != nil {
		return nil, false, fmt.Errorf("vault.ListAccessPoints %s: %w", vault, err)
	}
	more := len(recs) > limit
	if more {
		recs = recs[:limit]
	}
	out := make([]*AccessPoint, len(recs))
	for i, r := range recs {
		out[i] = accessPointFromRecord(r)
	}
	return out, more, nil
}

// UpdateAccessPointPolicy replaces an access point's policy ("" for none);
// the caller needs wormvault:UpdateAccessPointPolicy on its vault.
func (s *Store) UpdateAccessPointPolicy(ctx context.Context, caller Caller, name, doc string) (*AccessPoint, error) {
	if err := wormvault.ValidateAccessPointName("name", name); err != nil {
		return nil, err
	}
	if err := validateAccessPointPolicy(doc); err != nil {
		return nil, err
	}
	var rec *recordv1.AccessPoint
	err := s.commit(ctx, true, func(tx *catalog.Txn) ([]*journal.Entry, error) {
		ap, vrec, err := loadAccessPoint(tx, name)
		if err != nil {
			return nil, err
		}
		now := s.clock.Now().Time
		if _, err := s.authorize(caller, access{action: "UpdateAccessPointPolicy", vault: vrec}, now); err != nil {
			return nil, err
		}
		old := ap.GetPolicy()
		ap.Policy, rec = doc, ap
		return s.audited(tx, []*journal.Entry{accessPointPut(now, ap)}, tx.PutAccessPoint(ap),
			accessPointEvent(audit.KindAccessPointPolicySet, caller, ap, map[string]string{"old_policy": old, "policy": doc}))
	})
	if err != nil {
		return nil, fmt.Errorf("vault.UpdateAccessPointPolicy %s: %w", name, err)
	}
	return accessPointFromRecord(rec), nil
}

// DeleteAccessPoint deletes an access point; its vault and what the vault
// holds stay. The caller needs wormvault:DeleteAccessPoint on its vault.
func (s *Store) DeleteAccessPoint(ctx context.Context, caller Caller, name string) error {
	if err := wormvault.ValidateAccessPointName("name", name); err != nil {
		return err
	}
	err := s.commit(ctx, true, func(tx *catalog.Txn) ([]*journal.Entry, error) {
		ap, vrec, err := loadAccessPoint(tx, name)
		if err != nil {
			return nil, err
		}
		now := s.clock.Now().Time
		if _, err := s.authorize(caller, access{action: "DeleteAccessPoint", vault: vrec}, now); err != nil {
			return nil, err
		}
		return s.audited(tx, []*journal.Entry{accessPointDelete(now, name)}, tx.DeleteAccessPoint(name),
			accessPointEvent(audit.KindAccessPointDelete, caller, ap, nil))
	})
	if err != nil {
		return fmt.Errorf("vault.DeleteAccessPoint %s: %w", name, err)
	}
	return nil
}

// maxNamedAccessPoints is how many access points a refusal to delete their
// vault names; it says how many more there are.
const maxNamedAccessPoints = 10

// checkNoAccessPoints refuses deleting a vault that access points lead to,
// naming them: deleting it would leave doors to nothing, and a vault of the
// same name created later would inherit them.
func checkNoAccessPoints(tx *catalog.Txn, vault string) error {
	aps, err := tx.AccessPoints(vault, "", 1<<30)
	if err != nil || len(aps) == 0 {
		return err
	}
	names := make([]string, 0, maxNamedAccessPoints)
	for _, ap := range aps[:min(len(aps), maxNamedAccessPoints)] {
		names = append(names, wormvault.AccessPointPrefix+ap.GetName())
	}
	list := strings.Join(names, ", ")
	if len(aps) > maxNamedAccessPoints {
		list += fmt.Sprintf(" and %d more", len(aps)-maxNamedAccessPoints)
	}
	return fmt.Errorf("%w: delete the access points of %q first: %s", wormvault.ErrVaultHasAccessPoints, vault, list)
}
