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
package client
