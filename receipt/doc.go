// Package receipt defines wormvault's signed commit receipts: the canonical
// bytes of a statement about one committed version of an archive (what was
// stored and how it is protected), and their Ed25519 signature.
//
// A receipt lets an auditor prove, offline and without trusting the
// operator's word, that the server committed a version with a given size,
// SHA-256, retention and legal holds at a given time: Verify needs only the
// receipt and the server's public key.
//
// # Canonical bytes ("wormvault receipt v1")
//
// The signed payload is not protobuf (whose encoding is not canonical
// across versions) but a fixed sequence of exactly twelve fields, each a
// 4-byte big-endian length followed by that many bytes:
//
//	 1 domain          "wormvault receipt v1" (also the format version)
//	 2 key_id          16 lowercase hex digits: the first 8 bytes of
//	                   SHA-256 of the signing public key
//	 3 operation       "upload" | "retention" | "legal_hold"
//	 4 vault           UTF-8
//	 5 key             UTF-8
//	 6 version_id      the version id
//	 7 size_bytes      8 bytes, big-endian, never negative
//	 8 sha256          32 bytes, the SHA-256 of the archive's bytes
//	 9 retention_mode  "" (none) | "GOVERNANCE" | "COMPLIANCE"
//	10 retain_until    "" (none) or a UTC time (below)
//	11 legal_holds     the ids of the standing legal holds, each as
//	                   4-byte big-endian length || id, sorted bytewise,
//	                   distinct; empty when there is none
//	12 commit_time     a UTC time: the version's create time for an upload,
//	                   the time of the change for a retention or hold change
//
// Times are written "2006-01-02T15:04:05.000000000Z": UTC, always nine
// fraction digits. Nothing may follow the twelfth field, and Parse accepts
// only bytes that Marshal would produce, so one statement has exactly one
// encoding. The signature is Ed25519 over the payload as is; the domain
// string at its start keeps it from being mistaken for anything else the
// key might sign.
//
// The receipt names the state after the operation: a retention receipt
// carries the new retention and the holds standing then, a legal-hold
// receipt the holds after the change and the retention standing then.
package receipt
