package client

import (
	"context"
	"net"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
)

// identityFake answers the identity RPCs after failing the first
// unavailable calls, to check which of them the SDK retries.
type identityFake struct {
	fake
	wormvaultv1.UnimplementedIdentityServiceServer
	lastMFA []string // the x-wormvault-mfa values of the last GetPrincipal
}

func (f *identityFake) GetPrincipal(ctx context.Context, req *wormvaultv1.GetPrincipalRequest) (*wormvaultv1.GetPrincipalResponse, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	f.mu.Lock()
	f.lastMFA = md.Get("x-wormvault-mfa")
	f.mu.Unlock()
	if err := f.fail(ctx); err != nil {
		return nil, err
	}
	return &wormvaultv1.GetPrincipalResponse{Principal: &wormvaultv1.Principal{Name: req.GetName()}}, nil
}

func (f *identityFake) ListPrincipals(ctx context.Context, req *wormvaultv1.ListPrincipalsRequest) (*wormvaultv1.ListPrincipalsResponse, error) {
	if err := f.fail(ctx); err != nil {
		return nil, err
	}
	if req.GetPageToken() == "" {
		return &wormvaultv1.ListPrincipalsResponse{Principals: []*wormvaultv1.Principal{{Name: "root"}, {Name: "a"}}, NextPageToken: "a"}, nil
	}
	return &wormvaultv1.ListPrincipalsResponse{Principals: []*wormvaultv1.Principal{{Name: "b"}}}, nil
}

func (f *identityFake) ListAccessKeys(ctx context.Context, req *wormvaultv1.ListAccessKeysRequest) (*wormvaultv1.ListAccessKeysResponse, error) {
	if err := f.fail(ctx); err != nil {
		return nil, err
	}
	return &wormvaultv1.ListAccessKeysResponse{AccessKeys: []*wormvaultv1.AccessKey{{KeyId: "K1", Principal: req.GetPrincipal()}}}, nil
}

func (f *identityFake) GetPrincipalPolicy(ctx context.Context, req *wormvaultv1.GetPrincipalPolicyRequest) (*wormvaultv1.GetPrincipalPolicyResponse, error) {
	if err := f.fail(ctx); err != nil {
		return nil, err
	}
	return &wormvaultv1.GetPrincipalPolicyResponse{Policy: `{"p":"` + req.GetPrincipal() + `"}`}, nil
}

func (f *identityFake) CreateAccessKey(ctx context.Context, _ *wormvaultv1.CreateAccessKeyRequest) (*wormvaultv1.CreateAccessKeyResponse, error) {
	if err := f.fail(ctx); err != nil {
		return nil, err
	}
	return &wormvaultv1.CreateAccessKeyResponse{KeyId: "K2", Secret: "s3cret"}, nil
}

func (f *identityFake) RotateRootKey(ctx context.Context, _ *wormvaultv1.RotateRootKeyRequest) (*wormvaultv1.RotateRootKeyResponse, error) {
	if err := f.fail(ctx); err != nil {
		return nil, err
	}
	return &wormvaultv1.RotateRootKeyResponse{KeyId: "R2", Secret: "s3cret"}, nil
}

func (f *identityFake) CreatePrincipal(ctx context.Context, req *wormvaultv1.CreatePrincipalRequest) (*wormvaultv1.CreatePrincipalResponse, error) {
	if err := f.fail(ctx); err != nil {
		return nil, err
	}
	return &wormvaultv1.CreatePrincipalResponse{Principal: &wormvaultv1.Principal{Name: req.GetName()}}, nil
}

func (f *identityFake) SetPrincipalPolicy(ctx context.Context, _ *wormvaultv1.SetPrincipalPolicyRequest) (*wormvaultv1.SetPrincipalPolicyResponse, error) {
	if err := f.fail(ctx); err != nil {
		return nil, err
	}
	return &wormvaultv1.SetPrincipalPolicyResponse{}, nil
}

func (f *identityFake) DeleteAccessKey(ctx context.Context, _ *wormvaultv1.DeleteAccessKeyRequest) (*wormvaultv1.DeleteAccessKeyResponse, error) {
	if err := f.fail(ctx); err != nil {
		return nil, err
	}
	return &wormvaultv1.DeleteAccessKeyResponse{}, nil
}

func startIdentityFake(t *testing.T, f *identityFake, opts ...Option) *Client {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	wormvaultv1.RegisterIdentityServiceServer(srv, f)
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	c, err := Dial(t.Context(), lis.Addr().String(), append([]Option{WithRetry(3)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestIdentityRetries(t *testing.T) {
	tests := []struct {
		name      string
		call      func(ctx context.Context, c *Client) error
		wantRetry bool
	}{
		{"GetPrincipal", func(ctx context.Context, c *Client) error {
			p, err := c.GetPrincipal(ctx, "robot")
			if err == nil && p.GetName() != "robot" {
				t.Errorf("GetPrincipal = %v", p)
			}
			return err
		}, true},
		{"ListAccessKeys", func(ctx context.Context, c *Client) error {
			keys, err := c.ListAccessKeys(ctx, "robot")
			if err == nil && (len(keys) != 1 || keys[0].GetPrincipal() != "robot") {
				t.Errorf("ListAccessKeys = %v", keys)
			}
			return err
		}, true},
		{"GetPrincipalPolicy", func(ctx context.Context, c *Client) error {
			doc, err := c.GetPrincipalPolicy(ctx, "robot")
			if err == nil && doc != `{"p":"robot"}` {
				t.Errorf("GetPrincipalPolicy = %q", doc)
			}
			return err
		}, true},
		{"CreatePrincipal", func(ctx context.Context, c *Client) error {
			_, err := c.CreatePrincipal(ctx, "robot")
			return err
		}, false},
		{"CreateAccessKey", func(ctx context.Context, c *Client) error {
			_, _, err := c.CreateAccessKey(ctx, "robot")
			return err
		}, false},
		{"DeleteAccessKey", func(ctx context.Context, c *Client) error { return c.DeleteAccessKey(ctx, "K1") }, false},
		{"SetPrincipalPolicy", func(ctx context.Context, c *Client) error { return c.SetPrincipalPolicy(ctx, "robot", "{}") }, false},
		{"RotateRootKey", func(ctx context.Context, c *Client) error {
			_, err := c.RotateRootKey(ctx)
			return err
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &identityFake{fake: fake{unavailable: 2}}
			c := startIdentityFake(t, f)
			err := tt.call(t.Context(), c)
			wantCalls := 1
			if tt.wantRetry {
				wantCalls = 3
				if err != nil {
					t.Errorf("err = %v after retries", err)
				}
			} else if status.Code(err) != codes.Unavailable {
				t.Errorf("err = %v, want Unavailable (not retried)", err)
			}
			if f.calls != wantCalls {
				t.Errorf("calls = %d, want %d", f.calls, wantCalls)
			}
		})
	}

	c := startIdentityFake(t, &identityFake{fake: fake{unavailable: 1}})
	var names []string
	for p, err := range c.ListPrincipals(t.Context()) {
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, p.GetName())
	}
	if len(names) != 3 || names[0] != "root" || names[2] != "b" {
		t.Errorf("ListPrincipals across pages and a retry = %v", names)
	}
	if id, tok, err := c.CreateAccessKey(t.Context(), "robot"); err != nil || id != "K2" || tok != "K2.s3cret" {
		t.Errorf("CreateAccessKey = %q, %q, %v", id, tok, err)
	}
	if tok, err := c.RotateRootKey(t.Context()); err != nil || tok != "R2.s3cret" {
		t.Errorf("RotateRootKey = %q, %v", tok, err)
	}
	if resp, err := c.Identity().GetPrincipal(t.Context(), &wormvaultv1.GetPrincipalRequest{Name: "raw"}); err != nil || resp.GetPrincipal().GetName() != "raw" {
		t.Errorf("Identity().GetPrincipal = %v, %v", resp, err)
	}
}

func TestMFAMetadata(t *testing.T) {
	f := &identityFake{}
	get := func(ctx context.Context, c *Client) []string {
		t.Helper()
		if _, err := c.GetPrincipal(ctx, "p"); err != nil {
			t.Fatal(err)
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		return f.lastMFA
	}
	plain := startIdentityFake(t, f)
	if got := get(t.Context(), plain); len(got) != 0 {
		t.Errorf("no MFA: sent %q", got)
	}
	ctx := ContextWithMFA(t.Context(), "dev1", "111111")
	if got := get(ctx, plain); len(got) != 1 || got[0] != "dev1 111111" {
		t.Errorf("ContextWithMFA: sent %q", got)
	}
	if got := get(ContextWithMFA(ctx, "dev1", "222222"), plain); len(got) != 1 || got[0] != "dev1 222222" {
		t.Errorf("ContextWithMFA twice: sent %q, want only the last", got)
	}
	withOpt := startIdentityFake(t, f, WithMFA("dev2", "333333"))
	if got := get(t.Context(), withOpt); len(got) != 1 || got[0] != "dev2 333333" {
		t.Errorf("WithMFA: sent %q", got)
	}
	if got := get(ctx, withOpt); len(got) != 1 || got[0] != "dev1 111111" {
		t.Errorf("ContextWithMFA over WithMFA: sent %q, want the context's only", got)
	}
	for _, bad := range [][2]string{{"", "123456"}, {"dev", ""}, {"two words", "123456"}, {"dev", "12 34"}} {
		if c, err := Dial(t.Context(), "127.0.0.1:1", WithMFA(bad[0], bad[1])); err == nil {
			c.Close()
			t.Errorf("Dial WithMFA(%q, %q) succeeded", bad[0], bad[1])
		}
	}
}
