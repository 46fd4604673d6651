package client

import (
	"context"
	"strings"
	"unicode"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
)

// mfaMetadata is the metadata a request proves MFA with: "<device> <code>".
const mfaMetadata = "x-wormvault-mfa"

// WithMFA proves MFA on every call with a current code from the confirmed
// device, sent as the metadata "x-wormvault-mfa: DEVICE CODE". The server
// accepts each code once and refuses any call whose code is wrong, expired
// or used (wormvault.ErrMFAInvalid), so such a Client is good for one
// operation that needs MFA, as the CLI's --mfa is; a long-lived Client
// should use ContextWithMFA on the one call instead. ContextWithMFA
// overrides WithMFA.
func WithMFA(device, code string) Option {
	return func(o *options) { o.mfa = device + " " + code }
}

// ContextWithMFA returns a copy of ctx whose calls prove MFA with a current
// code from the confirmed device (metadata "x-wormvault-mfa: DEVICE CODE"),
// replacing any MFA code ctx already carried. Use it for the one call that
// needs MFA, such as a permanent delete in a vault with MFA delete on: the
// server accepts each code once.
func ContextWithMFA(ctx context.Context, device, code string) context.Context {
	md, _ := metadata.FromOutgoingContext(ctx)
	md = md.Copy()
	md.Set(mfaMetadata, device+" "+code)
	return metadata.NewOutgoingContext(ctx, md)
}

// checkMFA rejects a WithMFA value that is not two words.
func checkMFA(v string) error {
	f := strings.Split(v, " ")
	bad := func(s string) bool {
		return s == "" || strings.IndexFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0
	}
	if len(f) != 2 || bad(f[0]) || bad(f[1]) {
		return errorf("MFA device and code must be non-empty and contain no spaces or control characters")
	}
	return nil
}

// withMFA adds the client-wide MFA value unless ctx carries its own.
func withMFA(ctx context.Context, v string) context.Context {
	if md, ok := metadata.FromOutgoingContext(ctx); ok && len(md.Get(mfaMetadata)) > 0 {
		return ctx
	}
	return metadata.AppendToOutgoingContext(ctx, mfaMetadata, v)
}

func mfaUnary(v string) grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		return invoker(withMFA(ctx, v), method, req, reply, cc, opts...)
	}
}

func mfaStream(v string) grpc.StreamClientInterceptor {
	return func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
		return streamer(withMFA(ctx, v), desc, cc, method, opts...)
	}
}

// RegisterMFADevice creates an unconfirmed TOTP device (RFC 6238: SHA-1, 6
// digits, 30 s) and returns its otpauth:// URL and base32 secret, shown
// once; registering again before confirmation replaces the secret. Root
// only. It is not retried.
func (c *Client) RegisterMFADevice(ctx context.Context, name string) (*wormvaultv1.RegisterMFADeviceResponse, error) {
	resp, err := c.identity.RegisterMFADevice(ctx, &wormvaultv1.RegisterMFADeviceRequest{Name: name})
	if err != nil {
		return nil, convertError(err)
	}
	return resp, nil
}

// ConfirmMFADevice activates a registered device with a current code from
// it, which counts as used; a wrong code fails with wormvault.ErrMFAInvalid.
// Root only. It is not retried.
func (c *Client) ConfirmMFADevice(ctx context.Context, name, code string) error {
	_, err := c.identity.ConfirmMFADevice(ctx, &wormvaultv1.ConfirmMFADeviceRequest{Name: name, Code: code})
	return convertError(err)
}
