// Package e2e holds end-to-end tests that run what the README documents,
// verbatim, against a real server: the CLI tour with the real binary and the
// grpcurl tour with the real grpcurl.
package e2e
