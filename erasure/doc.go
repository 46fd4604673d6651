// Package erasure stores objects as Reed-Solomon coded shards, one shard
// file per drive, with a bitrot hash in front of every shard block.
//
// It knows nothing of vaults, keys or locks: bytes in, bytes out, plus an
// opaque caller meta blob stored in every shard so that a catalog can be
// rebuilt from the shards alone.
//
// # Shape
//
// A Set is k data + m parity drives (default 4+2, at most 16 in all, 1 <= m
// <= k). A Drive is a small interface (create temp, write, sync, commit by
// rename, open for ReadAt, remove, list a bucket, clean temp, usage);
// LocalDrive implements it over a directory and remote shard servers can
// implement it later.
//
//	w, _ := set.Create(ctx, id)        // temp shard file on every drive
//	io.Copy(w, src)                    // striped, encoded, hashed, written as it arrives
//	info, err := w.Commit(ctx, meta)   // trailer, fsync, rename, dir fsync; returns at write quorum
//	o, _ := set.Open(ctx, id)          // reads the trailers
//	r, _ := o.NewReader(ctx, off, n)   // verifies every block, reconstructs on the fly
//
// # Writing
//
// Object bytes are cut into stripes of BlockSize bytes. Each stripe is split
// into k data blocks of S = ceil(BlockSize/k) bytes (the last data block is
// zero-padded) and m parity blocks are computed. Only the last stripe is
// short: for its L bytes, S' = ceil(L/k). Writer copies incoming bytes into a
// pooled stripe buffer, encodes it (SIMD via klauspost/reedsolomon) and hands
// it to one goroutine per drive through a channel of depth 2; that goroutine
// hashes its block (SHA-256, sha256-simd) and appends [hash][block] to its
// temp file. At most 4 stripes per Writer are in memory. A drive that fails
// is dropped; Write fails as soon as the write quorum (k+1, or k when m = 1)
// cannot be met. Commit writes the trailer, fsyncs every shard, and only if a
// quorum is durable renames them into place (hard link: never over an
// existing shard) and fsyncs the directories. Below quorum it removes all it
// wrote. Local writes start kernel writeback every 4 MiB so the final fsync
// overlaps encoding.
//
// The context given to Create (and to NewReader) bounds the life of the
// Writer (Reader), whose Write (Read) methods have no context of their own.
//
// # Placement
//
// Shard i of object id lives on drive (i + offset) mod n, where offset is the
// big-endian uint32 of SHA-256(id)[4:8] mod n, so parity load spreads over
// the drives. Every shard records its index, so a shard found on another
// drive (drives reordered) is still used.
//
// # Reading, healing, scrubbing
//
// Open reads every drive's trailer, groups shards by commit id (a random
// 16-byte value shared by the shards of one write), and keeps the largest
// group. A Reader reads only the stripes of its range and, in each, only the
// data blocks it needs, verifying each against its hash; if any is missing
// or corrupt it reads further blocks until k are intact and reconstructs. A
// stripe with fewer than k intact blocks fails with wormvault.ErrDataLoss
// before any byte of it is returned. Degraded objects are reported to
// Config.OnDegraded (the heal queue). Heal verifies every block of every shard
// and rewrites damaged or missing shards from intact blocks (temp, fsync,
// rename); the rewritten files are byte-identical to the originals. Scrub
// runs Heal over many objects at a byte rate and returns a FixityReport.
//
// # On-disk format, version 1
//
// LocalDrive layout:
//
//	<drive>/shards/<hh>/<id>   committed shard; hh = first byte of SHA-256(id), lowercase hex
//	<drive>/tmp/<id>.<random>  shard being written (removed by CleanTemp at startup)
//
// A shard file is the blocks of every stripe, then a trailer, then a footer.
// All integers are little-endian.
//
//	offset                 size  field
//	s*(32+S)               32    SHA-256 of the shard block of stripe s
//	s*(32+S)+32            S_s   shard block of stripe s (S_s = S, or S' for the last stripe)
//	D = dataLen            ...   trailer, T bytes:
//	D+0                    8     magic "WVSHARD\x00"
//	D+8                    2     format version = 1
//	D+10                   1     block hash: 1 = SHA-256
//	D+11                   1     erasure code: 1 = Reed-Solomon over GF(2^8), polynomial 0x11d,
//	                             Vandermonde matrix made systematic (klauspost/reedsolomon default,
//	                             Backblaze JavaReedSolomon compatible)
//	D+12                   1     k, data shards
//	D+13                   1     m, parity shards
//	D+14                   1     shard index (0..k-1 data, k..k+m-1 parity)
//	D+15                   1     placement offset
//	D+16                   4     block size B (object bytes per stripe)
//	D+20                   8     object size
//	D+28                   16    commit id
//	D+44                   8     commit time, Unix nanoseconds
//	D+52                   2     id length I
//	D+54                   I     object id
//	D+54+I                 4     meta length M (at most 1 MiB)
//	D+58+I                 M     caller meta
//	D+58+I+M               32    SHA-256 of trailer bytes [D, D+58+I+M)
//	D+T                    8     footer: trailer length T = 90+I+M
//	D+T+8                  8     footer magic "WVSHEND\x00"
//
// with S = ceil(B/k), stripes = ceil(size/B), L = size - (stripes-1)*B,
// S' = ceil(L/k), dataLen = (stripes-1)*(32+S) + 32+S' (0 for an empty
// object), and file size = dataLen + T + 16. Data block j of stripe s holds
// object bytes [s*B + j*S_s, s*B + (j+1)*S_s), zero-padded past the stripe.
// A reader finds the trailer from the footer, checks the checksum, the id
// and the file size, then reads any block with one ReadAt. The golden files
// in testdata/golden pin this format; FuzzShardTrailer fuzzes its decoder.
// A new format gets a new version number and this package keeps reading
// every version it ever wrote.
package erasure
