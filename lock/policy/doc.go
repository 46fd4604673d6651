// Package policy is the policy document language of wormvault: the JSON
// documents behind vault access policies, vault-lock policies and identity
// policies, parsed, validated and evaluated.
//
// The server calls Parse when a policy is set (every problem is a
// wormvault.InvalidArgument for the field "policy" that names the statement
// and, in a condition, the line:col), stores the document, and keeps the
// *Policy to answer with Eval, or with Decide across the policies that bear
// on one request. A vault-lock policy must also pass CheckLockable. Nothing
// here does I/O, logs or speaks gRPC; time arrives in Request.Time.
//
// # Documents
//
//	{"statements": [
//	  {"sid": "KeepAYear", "effect": "DENY", "principals": ["*"],
//	   "actions": ["wormvault:DeleteArchive"],
//	   "resources": ["vaults/photos/archives/*"],
//	   "condition": "archive.age_days < 365"}]}
//
// A document is at most MaxDocumentSize bytes of UTF-8 JSON with at least one
// statement. Field names are exact (no "Effect"), none may repeat, unknown
// ones are refused. In a statement:
//
//   - sid is optional, unique within the document, at most MaxSidLen letters,
//     digits, spaces and -_.: characters.
//   - effect is "ALLOW" or "DENY".
//   - principals are "*" (everyone, the anonymous caller included) or names,
//     matched exactly.
//   - actions are "wormvault:<RPC name>" or ActionBypassGovernanceRetention
//     (the list is Actions), or patterns over them; a pattern must match at
//     least one action, so a typo is refused rather than silently inert.
//   - resources are "*", "vaults/NAME" (the vault itself) or
//     "vaults/NAME/archives/KEY", NAME and KEY may hold patterns.
//   - condition, optional, is a CEL expression of type bool.
//
// A pattern's '*' matches any run of characters, '/' included:
// "vaults/*/archives/2026/*" matches "vaults/v/archives/2026/a/b" and
// "vaults/p*" matches every archive of every vault whose name starts with p.
// Patterns are split into literal pieces at Parse and matched by prefix,
// suffix and substring tests; actions are matched once, at Parse, against the
// known list, so Eval tests one bit.
//
// # Evaluation
//
// A statement applies to a request when the principal, the action and the
// resource each match one of its entries and its condition holds. Within a
// policy an applying DENY wins over any ALLOW; across policies (Decide) any
// Deny wins, else any Allow, else NoMatch, which the caller interprets.
//
// # Conditions
//
// Conditions are CEL (github.com/google/cel-go) over these variables:
//
//	request.principal        string
//	request.action           string     "wormvault:DeleteArchive"
//	request.secure_transport bool
//	request.mfa_present      bool
//	request.encryption       string     what an upload asked for: "" (the vault default), "NONE", "SERVICE", "KMS" or "CUSTOMER"
//	request.time             timestamp
//	request.access_point     string
//	request.source_ip        string     cidr("10.0.0.0/8").containsIP(request.source_ip)
//	archive.key              string
//	archive.size_bytes       int
//	archive.age_days         int
//	archive.retention_mode   string     "", "GOVERNANCE" or "COMPLIANCE"
//	archive.retain_until     timestamp  0001-01-01T00:00:00Z without retention
//	archive.legal_hold       bool
//	vault.name               string
//
// Each is declared as a CEL variable under its dotted name: CEL resolves
// archive.age_days against declared qualified names before it looks for a
// value named archive, so every field keeps its own static type and
// `archive.age_days < "x"` or `request.ip` fails when the policy is set, not
// when it runs. (A map-typed "archive" variable would type every field dyn;
// a message type would need a protobuf descriptor; ext.NativeTypes would
// evaluate by reflection.) Besides the standard library, conditions have
// cel-go's network extension (ip, cidr) and literal timestamps, durations and
// regular expressions are checked at Parse. The activation is a switch over
// the Request, built once per Eval and only when a condition runs.
//
// Conditions fail closed. Each evaluation is capped at ConditionCostLimit
// CEL cost units, so no condition can stall the server; a condition that
// hits the cap or fails at run time (division by zero, a malformed IP) counts
// as holding in a DENY statement and as not holding in an ALLOW statement.
//
// Archive facts absent: a condition that names any archive.* variable
// applies only to requests about an archive. When Request.Archive is nil and
// the resource is a vault ("vaults/NAME"), such a statement does not apply,
// whatever its effect: "deny deleting archives younger than a year" says
// nothing about DeleteVault. When the resource names an archive but the
// server supplied no facts, the condition fails, and fails closed.
//
// # Vault lock
//
// A locked policy can never change, so CheckLockable refuses two mistakes
// that could not be undone: an ALLOW statement (OnlyDeny: a lock policy only
// takes away) and a statement that denies wormvault:DownloadArchive or
// wormvault:GetArchive to "*" on every archive of the vault without a
// condition (DeniesReadsUnconditionally): a locked vault nobody can read is
// a destroyed vault.
package policy
