package vault

// Caller is who asks, as the server authenticated and authorized them. The
// vault applies the WORM rules to every caller alike; the fields below are
// the only facts about identity those rules need.
type Caller struct {
	// Principal names the caller ("root" for the root principal).
	Principal string
	// Root is true for the root principal. Root may raise a vault's
	// max_retention; root never escapes COMPLIANCE retention or a legal hold.
	Root bool
	// The facts about how the request arrived, for policy conditions.
	SecureTransport bool
	MFAPresent      bool
	Encryption      string
	AccessPoint     string
	SourceIP        string

	// identityPolicy is the principal's own policy document, loaded with
	// the principal when it authenticated.
	identityPolicy string
	// accessPointPolicy is the policy of the access point the request
	// came through (AccessPoint), set by resolveVault and by nothing else.
	accessPointPolicy string
}

// RootPrincipal is the name of the principal created on first start.
const RootPrincipal = "root"
