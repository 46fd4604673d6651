// Package sse encrypts archives at rest: a chunked AES-256-GCM package
// format for archive streams and the envelope-key helpers around it.
//
// # Shape
//
// Every archive version gets a fresh data key (GenerateDataKey). The
// plaintext is encrypted before erasure coding, so shards hold only
// ciphertext; the data key is stored wrapped (WrapKey) under a
// key-encryption key derived from the master key (DeriveKey) or, for SSE-C,
// from the caller's key.
//
//	w, _ := sse.NewWriter(dst, dataKey)     // writes the header
//	io.Copy(w, src)                         // seals 64 KiB packages as they fill
//	w.Close()                               // seals the final package
//	r, err := sse.NewReader(ra, size, key)  // checks header and key (ErrWrongKey)
//	rr, _ := r.NewRangeReader(off, n)       // decrypts only the packages it touches
//
// CiphertextSize and PlaintextSize convert between the two sizes exactly, so
// the catalog can record both and a ranged download needs no extra read.
//
// # Guarantees
//
// A Reader returns no byte of a package that fails authentication. Every
// package is bound to its stream (header digest in its AAD, per-stream key
// and nonce prefix), to its position (sequence number) and to whether it is
// the last (final flag), so flipped bytes, reordered, dropped, appended or
// spliced packages, and truncation at a package boundary all fail with an
// error wrapping wormvault.ErrDataLoss. A ranged read authenticates the
// packages it touches; a read to the end authenticates the end of the
// stream. A wrong data key fails in NewReader with ErrWrongKey (which wraps
// wormvault.ErrPermissionDenied), before any package is decrypted: the
// header carries an HMAC key check, which also commits the stream to one key.
//
// Writer and RangeReader each hold one pooled package buffer. A RangeReader
// reads each package with one ReadAt, at contiguous increasing offsets, so an
// io.ReaderAt adapter over one sequential (erasure) stream serves it.
//
// # Stream format, version 1
//
// The format is for clients too (client-side encryption in the SDKs uses the
// same packages), so it is specified here completely; the test vectors in
// testdata/golden pin it. All integers are big-endian.
//
//	offset  size  header field
//	0       6     magic "WVSSE\x00"
//	6       1     format version = 1
//	7       1     cipher: 1 = AES-256-GCM
//	8       4     package size P = 65536 (plaintext bytes per package; v1 requires 65536)
//	12      16    salt, random per stream
//	28      8     nonce prefix, random per stream
//	36      32    key check = HMAC-SHA256(Kc, header[0:36])
//	68      8     checksum = SHA-256(header[0:68])[0:8] (tells bitrot from a wrong key)
//	76            packages follow
//
// with the stream keys derived from the 32-byte data key K:
//
//	Kp = HKDF-SHA256(secret K, salt, info "wormvault-sse v1 package key", 32 bytes)
//	Kc = HKDF-SHA256(secret K, salt, info "wormvault-sse v1 key check", 32 bytes)
//	D  = SHA-256(header[0:76])
//
// The plaintext of L bytes is cut into n = max(1, ceil(L/P)) packages: all
// hold P bytes but the last, which holds 1..P bytes (0 only when L = 0: an
// empty stream still has one, empty, final package). Package i (0-based)
// occupies ciphertext bytes [76 + i*(P+16), ...) and is
//
//	AES-256-GCM-Seal(key Kp, nonce N_i, plaintext p_i, aad A_i) = ciphertext || 16-byte tag
//	N_i = nonce prefix (8) || uint32(i) (4)
//	A_i = D (32) || uint32(i) (4) || final (1: 0x01 for package n-1, else 0x00)
//
// so the stream is 76 + L + 16*n bytes (CiphertextSize) and at most 2^32
// packages (256 TiB) long. A reader derives n and the size of the last
// package from the stream size (PlaintextSize rejects sizes no writer
// produces), checks magic, checksum, version, cipher and P (ErrDataLoss),
// then the key check (ErrWrongKey), then opens each package it needs with
// final = (i == n-1). Per-stream salt and nonce prefix make one caller key
// safe across many streams (no nonce reuse between them, as HKDF gives each
// stream its own Kp); a server-side stream still uses a fresh data key.
//
// # Wrapped key format, version 1
//
//	offset  size   field
//	0       1      version = 1
//	1       12     nonce, random
//	13      k+16   AES-256-GCM-Seal(key KEK, nonce, data key (k bytes), aad = version byte || caller aad)
//
// # Derived keys
//
// DeriveKey(master, purpose, ctx...) = HKDF-SHA256(secret master, no salt,
// info "wormvault derive-key v1" || for each of purpose, ctx...: uint32(len)
// || bytes, 32 bytes).
//
// A new format gets a new version number and this package keeps reading
// every version it ever wrote. The stream-format code (format.go, writer.go,
// reader.go) imports only the standard library and the root package, so it
// can move to a package shared with clients/go (which must not import vault).
package sse
