package audit

import (
	"slices"
	"time"

	recordv1 "github.com/wormvault/wormvault/proto/wormvault/record/v1"
)

// Event kinds. The strings are stored in every event and are part of the
// API (ListAuditEvents filters on them): they never change.
const (
	KindVaultCreate = "VAULT_CREATE"
	// KindVaultUpdate: a vault setting changed (default retention, ...);
	// details name the setting with its old and new values.
	KindVaultUpdate = "VAULT_UPDATE"
	KindVaultDelete = "VAULT_DELETE"

	// KindRetentionSet: a version's retention was set or changed; details
	// from RetentionDetails.
	KindRetentionSet     = "RETENTION_SET"
	KindLegalHoldSet     = "LEGAL_HOLD_SET"
	KindLegalHoldRelease = "LEGAL_HOLD_RELEASE"
	// KindGovernanceBypass: GOVERNANCE retention was bypassed to shorten,
	// remove or delete.
	KindGovernanceBypass = "GOVERNANCE_BYPASS"

	KindVaultLockInitiate = "VAULT_LOCK_INITIATE"
	KindVaultLockComplete = "VAULT_LOCK_COMPLETE"
	KindVaultLockAbort    = "VAULT_LOCK_ABORT"
	KindVaultLockExpire   = "VAULT_LOCK_EXPIRE"

	KindAccessPolicySet    = "ACCESS_POLICY_SET"
	KindAccessPolicyDelete = "ACCESS_POLICY_DELETE"

	// Access points; the event names the access point's vault, and
	// details carry access_point, and policy (with old_policy on a
	// change) and allowed_cidrs.
	KindAccessPointCreate    = "ACCESS_POINT_CREATE"
	KindAccessPointPolicySet = "ACCESS_POINT_POLICY_SET"
	KindAccessPointDelete    = "ACCESS_POINT_DELETE"

	KindPrincipalCreate    = "PRINCIPAL_CREATE"
	KindPrincipalDelete    = "PRINCIPAL_DELETE"
	KindPrincipalPolicySet = "PRINCIPAL_POLICY_SET"
	KindAccessKeyCreate    = "ACCESS_KEY_CREATE"
	KindAccessKeyDelete    = "ACCESS_KEY_DELETE"
	KindRootKeyRotate      = "ROOT_KEY_ROTATE"
	// KindRootKeyCreate: the first root access key was created on the
	// first start; details name its key id.
	KindRootKeyCreate = "ROOT_KEY_CREATE"
	// KindReceiptKeyCreate: the key that signs receipts was created on the
	// first start; details carry its key id and public key (hex).
	KindReceiptKeyCreate = "RECEIPT_KEY_CREATE"

	KindMFADeviceRegister = "MFA_DEVICE_REGISTER"
	KindMFADeviceConfirm  = "MFA_DEVICE_CONFIRM"
	KindMFADeleteSet      = "MFA_DELETE_SET"

	// KindKMSGenerateDataKey (an upload) and KindKMSDecrypt (a download):
	// a KMS key was used; the event names the archive version and details
	// carry kms_key and kms_key_version.
	KindKMSGenerateDataKey = "KMS_GENERATE_DATA_KEY"
	KindKMSDecrypt         = "KMS_DECRYPT"
	// KMS key management; details carry kms_key, state and
	// kms_key_version (current), and what changed.
	KindKMSKeyCreate           = "KMS_KEY_CREATE"
	KindKMSKeyRotate           = "KMS_KEY_ROTATE"
	KindKMSKeyDisable          = "KMS_KEY_DISABLE"
	KindKMSKeyEnable           = "KMS_KEY_ENABLE"
	KindKMSKeyScheduleDeletion = "KMS_KEY_SCHEDULE_DELETION"
	KindKMSKeyCancelDeletion   = "KMS_KEY_CANCEL_DELETION"
	// KindKMSKeyDeleted: the server dropped a key's material once its
	// deletion time had passed with nothing it encrypts under protection.
	KindKMSKeyDeleted = "KMS_KEY_DELETED"

	KindMasterKeyRotate = "MASTER_KEY_ROTATE"

	// KindClockUntrusted: the clock jumped and is distrusted until root
	// acknowledges it (KindClockAcknowledged).
	KindClockUntrusted    = "CLOCK_UNTRUSTED"
	KindClockAcknowledged = "CLOCK_ACKNOWLEDGED"

	// KindCatalogRebuild: the catalog was rebuilt from the drives' journal;
	// details name drives that disagreed with the majority or lacked
	// entries, and entries skipped or lost.
	KindCatalogRebuild = "CATALOG_REBUILD"

	// KindHeal: shards of an archive were rebuilt (or could not be).
	KindHeal = "HEAL"
	// KindFixityReport: a scrub pass finished; details summarise it.
	KindFixityReport = "FIXITY_REPORT"
)

var kinds = []string{
	KindVaultCreate, KindVaultUpdate, KindVaultDelete,
	KindRetentionSet, KindLegalHoldSet, KindLegalHoldRelease, KindGovernanceBypass,
	KindVaultLockInitiate, KindVaultLockComplete, KindVaultLockAbort, KindVaultLockExpire,
	KindAccessPolicySet, KindAccessPolicyDelete,
	KindAccessPointCreate, KindAccessPointPolicySet, KindAccessPointDelete,
	KindPrincipalCreate, KindPrincipalDelete, KindPrincipalPolicySet,
	KindAccessKeyCreate, KindAccessKeyDelete, KindRootKeyRotate, KindRootKeyCreate, KindReceiptKeyCreate,
	KindMFADeviceRegister, KindMFADeviceConfirm, KindMFADeleteSet,
	KindKMSGenerateDataKey, KindKMSDecrypt, KindKMSKeyRotate, KindKMSKeyDisable, KindMasterKeyRotate,
	KindKMSKeyCreate, KindKMSKeyEnable, KindKMSKeyScheduleDeletion, KindKMSKeyCancelDeletion, KindKMSKeyDeleted,
	KindClockUntrusted, KindClockAcknowledged,
	KindHeal, KindFixityReport, KindCatalogRebuild,
}

// Kinds returns every event kind.
func Kinds() []string { return slices.Clone(kinds) }

// KnownKind reports whether k is one of the event kinds.
func KnownKind(k string) bool { return slices.Contains(kinds, k) }

// RetentionDetails describes a retention change for a KindRetentionSet
// event: old_mode, old_retain_until, new_mode, new_retain_until (RFC 3339,
// UTC). A nil retention (none before, or removed) leaves its pair empty.
func RetentionDetails(old, new *recordv1.Retention) map[string]string {
	d := map[string]string{}
	for prefix, r := range map[string]*recordv1.Retention{"old_": old, "new_": new} {
		if r == nil || r.GetMode() == recordv1.RetentionMode_RETENTION_MODE_UNSPECIFIED {
			d[prefix+"mode"], d[prefix+"retain_until"] = "", ""
			continue
		}
		d[prefix+"mode"] = r.GetMode().String()
		d[prefix+"retain_until"] = r.GetRetainUntilTime().AsTime().UTC().Format(time.RFC3339Nano)
	}
	return d
}
