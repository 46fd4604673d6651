package wormvault

import (
	"errors"
	"regexp"
	"testing"
	"unicode/utf8"
)

// vaultNameRule is the documented vault name rule written a second way:
// 3-63 of [a-z0-9-], starting and ending with a letter or digit (so no
// dots, no "..", no upper case, nothing outside ASCII).
var vaultNameRule = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$`)

// keyRule: 1-1024 bytes of valid UTF-8 without NUL, decoded rune by rune.
func keyRule(key string) bool {
	if len(key) < 1 || len(key) > 1024 {
		return false
	}
	for i := 0; i < len(key); {
		r, size := utf8.DecodeRuneInString(key[i:])
		if r == utf8.RuneError && size <= 1 || r == 0 {
			return false
		}
		i += size
	}
	return true
}

// holdIDRule: 1-64 bytes of valid UTF-8 without C0 controls or DEL.
func holdIDRule(id string) bool {
	if len(id) < 1 || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); {
		r, size := utf8.DecodeRuneInString(id[i:])
		if r == utf8.RuneError && size <= 1 || r < 0x20 || r == 0x7f {
			return false
		}
		i += size
	}
	return true
}

// FuzzValidateNames checks the three name validators against the documented
// rules, restated independently above: each accepts exactly what its rule
// allows, and refuses with an InvalidArgument naming the field it was given.
func FuzzValidateNames(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		for _, v := range []struct {
			field    string
			validate func(field, s string) error
			rule     func(string) bool
		}{
			{"vault.name", ValidateVaultName, vaultNameRule.MatchString},
			{"header.key", ValidateKey, keyRule},
			{"hold_id", ValidateHoldID, holdIDRule},
		} {
			err := v.validate(v.field, s)
			if want := v.rule(s); (err == nil) != want {
				t.Fatalf("%s %q: error %v, but the documented rule says valid=%v", v.field, s, err, want)
			}
			if err == nil {
				continue
			}
			var ia *InvalidArgumentError
			if !errors.As(err, &ia) || !errors.Is(err, ErrInvalidArgument) || ia.Field != v.field || ia.Reason == "" {
				t.Fatalf("%s %q: error %#v is not an InvalidArgument for the field", v.field, s, err)
			}
		}
	})
}
