package wormvault

import (
	"github.com/google/uuid"
)

// VersionID names one immutable version of an archive. It is a UUIDv7 in its
// canonical text form, so ids sort by creation time.
type VersionID string

// NewVersionID returns a fresh time-ordered version id.
func NewVersionID() (VersionID, error) {
	u, err := uuid.NewV7()
	if err != nil {
		return "", err
	}
	return VersionID(u.String()), nil
}

// ValidateVersionID checks that s is a version id this server could have issued.
func ValidateVersionID(field, s string) error {
	u, err := uuid.Parse(s)
	if err != nil || u.Version() != 7 || u.String() != s {
		return InvalidArgument(field, "not a version id: %q", s)
	}
	return nil
}
