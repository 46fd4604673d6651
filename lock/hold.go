package lock

import (
	"slices"

	"github.com/wormvault/wormvault"
)

// CheckSetLegalHold decides whether a legal hold named holdID may be placed on
// or released from v (rules 8, 8a): a delete marker cannot carry a hold, and
// the id must be 1-64 printable characters. An empty holdID means
// wormvault.DefaultHoldID. Placing and releasing holds never depend on the
// clock or on retention.
func CheckSetLegalHold(v Version, holdID string) error {
	if v.DeleteMarker {
		return wormvault.InvalidArgument("version_id", "a delete marker cannot carry a legal hold")
	}
	return wormvault.ValidateHoldID("hold_id", HoldID(holdID))
}

// HoldID returns id, or wormvault.DefaultHoldID when id is empty.
func HoldID(id string) string {
	if id == "" {
		return wormvault.DefaultHoldID
	}
	return id
}

// PlaceHold returns holds with h standing: it replaces the hold of the same id
// or adds h at the end. An empty h.ID means wormvault.DefaultHoldID. holds is
// not modified.
func PlaceHold(holds []wormvault.LegalHold, h wormvault.LegalHold) []wormvault.LegalHold {
	h.ID = HoldID(h.ID)
	out := slices.Clone(holds)
	if i := slices.IndexFunc(out, func(x wormvault.LegalHold) bool { return x.ID == h.ID }); i >= 0 {
		out[i] = h
		return out
	}
	return append(out, h)
}

// ReleaseHold returns holds without the hold named id (an empty id means
// wormvault.DefaultHoldID), and whether it stood. Every other hold stays.
// holds is not modified.
func ReleaseHold(holds []wormvault.LegalHold, id string) (rest []wormvault.LegalHold, released bool) {
	id = HoldID(id)
	rest = slices.DeleteFunc(slices.Clone(holds), func(x wormvault.LegalHold) bool { return x.ID == id })
	return rest, len(rest) != len(holds)
}
