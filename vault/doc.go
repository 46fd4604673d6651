// Package vault is wormvault's domain: vaults, archives, versions and delete
// markers. It runs every request through the WORM rules of package lock
// before it touches the erasure-coded drives or the catalog, and it owns the
// transactions that make a change exist.
//
// # Upload
//
// An upload streams once through SHA-256 and the Glacier tree hash into an
// erasure.Writer, which stripes the bytes over the drives into temp files.
// When the stream ends, the shard files are made durable (fsync, rename,
// directory fsync) with the version record embedded in every shard, and then
// ONE catalog transaction records the version. That commit is the moment the
// archive exists: before it nothing is visible, and a crash before it leaves
// only shards with no catalog record, which the startup sweep removes.
//
// # Deletion
//
// A permanent delete removes the catalog record first (the commit point) and
// the shards after. A crash in between leaves orphan shards, swept as above;
// it never leaves a catalog record pointing at missing shards.
package vault
