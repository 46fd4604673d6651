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
func ValidateVaultName(field, name string) error {
	if len(name) < MinVaultNameLen || len(name) > MaxVaultNameLen {
		return InvalidArgument(field, "vault name must be %d-%d characters, got %d", MinVaultNameLen, MaxVaultNameLen, len(name))
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		alnum := c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
		if !alnum && c != '-' {
			return InvalidArgument(field, "vault name may contain only lowercase letters, digits and hyphens, found %q at %d", c, i)
		}
		if !alnum && (i == 0 || i == len(name)-1) {
			return InvalidArgument(field, "vault name must start and end with a letter or digit")
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
