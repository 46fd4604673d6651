package policy

// ActionPrefix starts every action name: "wormvault:DeleteArchive".
const ActionPrefix = "wormvault:"

// ActionBypassGovernanceRetention is the one action that is not an RPC: a
// caller needs it, besides the request flag, to shorten or remove GOVERNANCE
// retention or to delete a version under it.
const ActionBypassGovernanceRetention = ActionPrefix + "BypassGovernanceRetention"

// actions lists every action a statement may name, service by service.
var actions = [...]string{
	// VaultService
	"wormvault:CreateVault", "wormvault:GetVault", "wormvault:ListVaults", "wormvault:UpdateVault",
	"wormvault:DeleteVault", "wormvault:SetVaultAccessPolicy", "wormvault:GetVaultAccessPolicy",
	"wormvault:DeleteVaultAccessPolicy",
	// ArchiveService
	"wormvault:UploadArchive", "wormvault:DownloadArchive", "wormvault:GetArchive", "wormvault:ListArchives",
	"wormvault:DeleteArchive", "wormvault:SetRetention", "wormvault:GetRetention", "wormvault:SetLegalHold",
	"wormvault:GetLegalHold", "wormvault:ExplainProtection",
	// LockService
	"wormvault:InitiateVaultLock", "wormvault:CompleteVaultLock", "wormvault:AbortVaultLock",
	"wormvault:GetVaultLock",
	// IdentityService
	"wormvault:CreatePrincipal", "wormvault:GetPrincipal", "wormvault:ListPrincipals",
	"wormvault:DeletePrincipal", "wormvault:CreateAccessKey", "wormvault:ListAccessKeys",
	"wormvault:DeleteAccessKey", "wormvault:SetPrincipalPolicy", "wormvault:GetPrincipalPolicy",
	"wormvault:RegisterMFADevice", "wormvault:ConfirmMFADevice",
	// AdminService
	"wormvault:GetStorageStatus", "wormvault:Heal", "wormvault:Scrub", "wormvault:ListFixityReports",
	"wormvault:GetClockStatus", "wormvault:AcknowledgeClock",
	// KeyService
	"wormvault:CreateKey", "wormvault:GetKey", "wormvault:ListKeys", "wormvault:DisableKey",
	"wormvault:EnableKey", "wormvault:RotateKey", "wormvault:ScheduleKeyDeletion",
	"wormvault:CancelKeyDeletion",
	// AuditService
	"wormvault:ListAuditEvents", "wormvault:VerifyAuditTrail", "wormvault:GetReceiptKey",
	// AccessPointService
	"wormvault:CreateAccessPoint", "wormvault:GetAccessPoint", "wormvault:ListAccessPoints",
	"wormvault:UpdateAccessPointPolicy", "wormvault:DeleteAccessPoint",
	// Not an RPC.
	ActionBypassGovernanceRetention,
}

// Actions returns every action a policy statement may name, in the form
// "wormvault:<RPC name>", plus ActionBypassGovernanceRetention. The slice is
// the caller's to keep.
func Actions() []string {
	return append([]string(nil), actions[:]...)
}

// actionSet is a bit per entry of actions: the known actions a statement's
// patterns cover, worked out once at Parse so that Eval tests one bit.
type actionSet [2]uint64

// The bit set must hold every action; this fails to compile when it cannot.
var _ = [len(actionSet{})*64 - len(actions)]struct{}{}

func (s *actionSet) add(i int)      { s[i/64] |= 1 << (i % 64) }
func (s *actionSet) has(i int) bool { return s[i/64]&(1<<(i%64)) != 0 }
func (s *actionSet) empty() bool    { return s[0] == 0 && s[1] == 0 }

// actionIndex maps both "wormvault:GetVault" and the bare RPC name "GetVault"
// to the action's position in actions.
var actionIndex = func() map[string]int {
	m := make(map[string]int, 2*len(actions))
	for i, a := range actions {
		m[a] = i
		m[a[len(ActionPrefix):]] = i
	}
	return m
}()

// indexOfAction returns the position of a known action, or -1.
func indexOfAction(name string) int {
	if i, ok := actionIndex[name]; ok {
		return i
	}
	return -1
}

// matchActions returns the known actions pattern covers.
func matchActions(g glob) actionSet {
	var s actionSet
	for i, a := range actions {
		if g.match(a) {
			s.add(i)
		}
	}
	return s
}
