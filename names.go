package wormvault

import (
	"strings"
	"unicode/utf8"
)

// Limits on names.
const (
	MinVaultNameLen = 3
	MaxVaultNameLen = 63
	MaxKeyLen       = 1024
	MaxHoldIDLen    = 64
)

// ValidateVaultName checks the S3 bucket rules: 3–63 characters of lowercase
// letters, digits and hyphens, starting and ending with a letter or digit.
func ValidateVaultName(field, name string) error { return validateName(field, "vault", name) }

// AccessPointPrefix starts a vault reference that names an access point
// rather than a vault: "ap/payroll". Vault names cannot contain '/', so the
// two never collide.
const AccessPointPrefix = "ap/"

// AccessPointOf returns NAME of the vault reference "ap/NAME", and whether
// ref is one.
func AccessPointOf(ref string) (name string, ok bool) {
	return strings.CutPrefix(ref, AccessPointPrefix)
}

// ValidateAccessPointName checks an access point's name: the vault-name
// rules.
func ValidateAccessPointName(field, name string) error {
	return validateName(field, "access point", name)
}

// ValidateVaultRef checks what an archive request may name as its vault:
// a vault name, or "ap/NAME" for the access point NAME.
func ValidateVaultRef(field, ref string) error {
	if name, ok := AccessPointOf(ref); ok {
		return ValidateAccessPointName(field, name)
	}
	return ValidateVaultName(field, ref)
}

func validateName(field, what, name string) error {
	if len(name) < MinVaultNameLen || len(name) > MaxVaultNameLen {
		return InvalidArgument(field, "%s name must be %d-%d characters, got %d", what, MinVaultNameLen, MaxVaultNameLen, len(name))
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		alnum := c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
		if !alnum && c != '-' {
			return InvalidArgument(field, "%s name may contain only lowercase letters, digits and hyphens, found %q at %d", what, c, i)
		}
		if !alnum && (i == 0 || i == len(name)-1) {
			return InvalidArgument(field, "%s name must start and end with a letter or digit", what)
		}
	}
	return nil
}

// ValidateKey checks an archive key: valid UTF-8, 1–1024 bytes, no NUL.
func ValidateKey(field, key string) error {
	if len(key) == 0 {
		return InvalidArgument(field, "key must not be empty")
	}
	if len(key) > MaxKeyLen {
		return InvalidArgument(field, "key must be at most %d bytes, got %d", MaxKeyLen, len(key))
	}
	if !utf8.ValidString(key) {
		return InvalidArgument(field, "key must be valid UTF-8")
	}
	if strings.IndexByte(key, 0) >= 0 {
		return InvalidArgument(field, "key must not contain NUL")
	}
	return nil
}

// ValidateHoldID checks a legal hold name: 1–64 printable characters.
func ValidateHoldID(field, id string) error {
	if len(id) == 0 || len(id) > MaxHoldIDLen {
		return InvalidArgument(field, "hold id must be 1-%d characters, got %d", MaxHoldIDLen, len(id))
	}
	if !utf8.ValidString(id) {
		return InvalidArgument(field, "hold id must be valid UTF-8")
	}
	for _, r := range id {
		if r < 0x20 || r == 0x7f {
			return InvalidArgument(field, "hold id must not contain control characters")
		}
	}
	return nil
}
