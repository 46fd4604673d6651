// Package client is the Go SDK for wormvault: a typed, retrying wrapper around
// the gRPC API in proto/wormvault/v1.
//
// Dial returns a *Client. Its methods take and return the generated protobuf
// messages (package wormvaultv1) and the shared vocabulary of package
// wormvault. Every error a call returns that came from the server is a
// *Error, whose Unwrap yields the matching wormvault sentinel, so callers test
// errors.Is(err, wormvault.ErrRetentionCompliance) exactly as the server does.
//
// Idempotent calls (Get*, List*, Stat, and Download before its first byte)
// are retried with exponential backoff when the server is Unavailable.
// Uploads are retried only when the reader is an io.Seeker and the failure
// happened before every byte was sent. Nothing else is retried.
//
// # Client-side encryption
//
// With a ClientKey the SDK encrypts before upload and decrypts after
// download, so the server stores, erasure-codes and serves only ciphertext
// and never holds the key:
//
//	ck, err := client.LoadClientKey("client.key")   // or CreateClientKeyFile
//	a, err := c.Upload(ctx, "records", "q1.tar", f, client.WithClientKey(ck))
//	a, rc, err := c.Download(ctx, "records", "q1.tar", client.DecryptWithClientKey(ck))
//
// A client key is 32 bytes, in a file of 64 hex digits (or 32 raw bytes)
// that group and others may not read or write. It is a key-encryption key:
// every upload gets a fresh 32-byte data key (sse.GenerateDataKey), the
// plaintext is streamed through the vault/sse package format under that data
// key (the same format, specified in that package's documentation, the
// server uses at rest: 76-byte header, then 64 KiB packages, each sealed
// with AES-256-GCM and bound to its stream, position and finality), and the
// data key travels wrapped in the archive's user metadata:
//
//	x-wormvault-cse-alg          "wormvault-sse-v1"
//	x-wormvault-cse-key-id       hex(SHA-256("wormvault-cse key id v1" || client key)[0:8])
//	x-wormvault-cse-wrapped-key  base64(sse.WrapKey(client key, data key, aad))
//	aad = "wormvault-cse v1" || uint32(len(vault)) || vault || uint32(len(key)) || key
//
// (big-endian lengths; standard padded base64). The key id lets Download
// refuse a wrong key (ErrClientKeyMismatch) before any decryption; the aad
// binds the envelope to its vault and key, so an envelope copied to another
// archive does not open. No digest of the plaintext is stored: it would let
// anyone holding the server's data confirm a guess of the content.
//
// The archive the server records is the ciphertext: its size_bytes is
// sse.CiphertextSize of the plaintext size (76 + size + 16 per package;
// PlaintextSize inverts it) and its sha256 is the SHA-256 of the
// ciphertext, which Upload and a full Download verify as for any archive.
// WithExpectedSHA256 is checked by the SDK against the plaintext instead.
// Upload streams: memory stays at about two packages whatever the size, and
// an upload from an io.Seeker is retried as usual (with a new stream under
// the same data key).
//
// Download with DecryptWithClientKey returns plaintext, and no byte of a
// package before its tag verifies; altered, reordered, truncated, extended
// or substituted ciphertext ends the read with an error wrapping
// wormvault.ErrDataLoss. WithRange counts plaintext bytes: the SDK fetches
// the stream header, then only the packages the range touches
// (sse.CiphertextRange). A client key given for an archive that is not
// client-side encrypted fails with ErrNotClientSideEncrypted rather than
// return bytes the server chose. Download without the key returns the
// ciphertext; ClientKey.Decrypt decrypts such a copy later.
//
// What is not hidden from the server: vault and key names, content type,
// the other user metadata, the exact plaintext size (PlaintextSize derives
// it from the ciphertext size), times, and which archives share a client
// key. The envelope does not bind the version id (the server assigns it
// after the upload starts), so a server could serve an older version of the
// same key in place of a newer one; both are authentic content the key
// holder uploaded.
package client
