package catalog

import (
	"bytes"
	"encoding/binary"

	"github.com/google/uuid"
)

// Key layout. Every key starts with a one-word table name and a slash, so the
// tables never interleave.
//
//	vault/<name>                                  -> recordv1.Vault
//	ver/<vault>\x00<key>\x00<^version-id bytes>   -> recordv1.Version
//	vid/<version-id>                              -> <vault>\x00<key>
//	akey/<key-id>                                 -> recordv1.AccessKey
//	prin/<name>                                   -> recordv1.Principal
//	mfa/<name>                                    -> recordv1.MFADevice
//	meta/<name>                                   -> small settings (clock mark, ...)
//	fixity/<^start-time big-endian>               -> recordv1.FixityReport, newest first
//	kms/<name>                                    -> recordv1.KMSKey
//	kmsuse/<kms key>/<vault>/<version-id>         -> empty: a version encrypted under the KMS key
//	ap/<name>                                     -> recordv1.AccessPoint (accesspoint.go)
//	alogin/<version-id>                           -> recordv1.AccessLogRecord of an upload, until delivery moves it (accessinbox.go)
//	aloglost/<version-id>                         -> an inbox entry that did not decode, set aside (accessinbox.go)
//
// Archive keys cannot contain NUL, so "\x00" ends the key and keys sort in
// byte order with all of a key's versions together. The version id's 16
// bytes are stored inverted (0xff-b): UUIDv7 ids grow with time, so inverted
// ids put the newest version of a key first.
var (
	vaultPrefix   = []byte("vault/")
	versionPrefix = []byte("ver/")
	vidPrefix     = []byte("vid/")
	akeyPrefix    = []byte("akey/")
	metaPrefix    = []byte("meta/")
	fixityPrefix  = []byte("fixity/")
	prinPrefix    = []byte("prin/")
	blobPrefix    = []byte("blob/")
	kmsKeyPrefix  = []byte("kms/")
	kmsUsePrefix  = []byte("kmsuse/")
	apPrefix      = []byte("ap/")
)

// blobKey holds the bytes of a small archive stored inline. They live
// apart from the version record so listings never load them.
func blobKey(versionID string) []byte { return cat(blobPrefix, []byte(versionID)) }

func prinKey(name string) []byte { return cat(prinPrefix, []byte(name)) }

func fixityKey(startUnixNano int64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], ^uint64(startUnixNano))
	return cat(fixityPrefix, b[:])
}

func vaultKey(name string) []byte { return cat(vaultPrefix, []byte(name)) }

// versionsOfVault is the prefix of every version in a vault.
func versionsOfVault(vault string) []byte { return cat(versionPrefix, []byte(vault), []byte{0}) }

// versionsOfKey is the prefix of every version of one archive key.
func versionsOfKey(vault, key string) []byte {
	return cat(versionPrefix, []byte(vault), []byte{0}, []byte(key), []byte{0})
}

func versionKey(vault, key string, id uuid.UUID) []byte {
	var inv [16]byte
	for i, b := range id {
		inv[i] = 0xff - b
	}
	return cat(versionsOfKey(vault, key), inv[:])
}

// splitVersionKey returns the archive key and version id of a version key
// within a vault's prefix.
func splitVersionKey(vaultPrefix, k []byte) (key string, id uuid.UUID, ok bool) {
	rest, found := bytes.CutPrefix(k, vaultPrefix)
	if !found || len(rest) < 17 || rest[len(rest)-17] != 0 {
		return "", uuid.UUID{}, false
	}
	for i, b := range rest[len(rest)-16:] {
		id[i] = 0xff - b
	}
	return string(rest[:len(rest)-17]), id, true
}

func vidKey(id string) []byte    { return cat(vidPrefix, []byte(id)) }
func akeyKey(id string) []byte   { return cat(akeyPrefix, []byte(id)) }
func metaKey(name string) []byte { return cat(metaPrefix, []byte(name)) }
func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

var mfaPrefix = []byte("mfa/")

func mfaKey(name string) []byte { return cat(mfaPrefix, []byte(name)) }
