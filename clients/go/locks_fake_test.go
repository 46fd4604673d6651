package client

import (
	"context"
	"net"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
)

// lockFake answers the lock and access-policy RPCs after failing the first
// unavailable calls, to check which of them the SDK retries.
type lockFake struct {
	fake
	wormvaultv1.UnimplementedLockServiceServer
}

func (f *lockFake) GetVaultLock(ctx context.Context, req *wormvaultv1.GetVaultLockRequest) (*wormvaultv1.GetVaultLockResponse, error) {
	if err := f.fail(ctx); err != nil {
		return nil, err
	}
	return &wormvaultv1.GetVaultLockResponse{Policy: req.GetVault(), State: wormvaultv1.VaultLockState_VAULT_LOCK_STATE_LOCKED}, nil
}

func (f *lockFake) InitiateVaultLock(ctx context.Context, req *wormvaultv1.InitiateVaultLockRequest) (*wormvaultv1.InitiateVaultLockResponse, error) {
	if err := f.fail(ctx); err != nil {
		return nil, err
	}
	return &wormvaultv1.InitiateVaultLockResponse{LockId: "l1"}, nil
}

func (f *lockFake) AbortVaultLock(ctx context.Context, _ *wormvaultv1.AbortVaultLockRequest) (*wormvaultv1.AbortVaultLockResponse, error) {
	if err := f.fail(ctx); err != nil {
		return nil, err
	}
	return &wormvaultv1.AbortVaultLockResponse{}, nil
}

func (f *lockFake) GetVaultAccessPolicy(ctx context.Context, req *wormvaultv1.GetVaultAccessPolicyRequest) (*wormvaultv1.GetVaultAccessPolicyResponse, error) {
	if err := f.fail(ctx); err != nil {
		return nil, err
	}
	return &wormvaultv1.GetVaultAccessPolicyResponse{Policy: `{"vault":"` + req.GetVault() + `"}`}, nil
}

func (f *lockFake) SetVaultAccessPolicy(ctx context.Context, _ *wormvaultv1.SetVaultAccessPolicyRequest) (*wormvaultv1.SetVaultAccessPolicyResponse, error) {
	if err := f.fail(ctx); err != nil {
		return nil, err
	}
	return &wormvaultv1.SetVaultAccessPolicyResponse{}, nil
}

func startLockFake(t *testing.T, f *lockFake) *Client {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	wormvaultv1.RegisterVaultServiceServer(srv, f)
	wormvaultv1.RegisterLockServiceServer(srv, f)
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	c, err := Dial(t.Context(), lis.Addr().String(), WithRetry(3))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestLockAndPolicyRetries(t *testing.T) {
	tests := []struct {
		name      string
		call      func(ctx context.Context, c *Client) error
		wantRetry bool
	}{
		{"GetVaultLock", func(ctx context.Context, c *Client) error {
			l, err := c.GetVaultLock(ctx, "v")
			if err == nil && (l.GetPolicy() != "v" || l.GetState() != wormvaultv1.VaultLockState_VAULT_LOCK_STATE_LOCKED) {
				t.Errorf("GetVaultLock = %v", l)
			}
			return err
		}, true},
		{"GetVaultAccessPolicy", func(ctx context.Context, c *Client) error {
			doc, err := c.GetVaultAccessPolicy(ctx, "v")
			if err == nil && doc != `{"vault":"v"}` {
				t.Errorf("GetVaultAccessPolicy = %q", doc)
			}
			return err
		}, true},
		{"InitiateVaultLock", func(ctx context.Context, c *Client) error {
			_, err := c.InitiateVaultLock(ctx, "v", "{}")
			return err
		}, false},
		{"AbortVaultLock", func(ctx context.Context, c *Client) error { return c.AbortVaultLock(ctx, "v") }, false},
		{"SetVaultAccessPolicy", func(ctx context.Context, c *Client) error { return c.SetVaultAccessPolicy(ctx, "v", "{}") }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &lockFake{fake: fake{unavailable: 2}}
			c := startLockFake(t, f)
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

	// The raw stub reaches the same server, without retries or conversion.
	c := startLockFake(t, &lockFake{})
	if resp, err := c.Locks().GetVaultLock(t.Context(), &wormvaultv1.GetVaultLockRequest{Vault: "raw"}); err != nil || resp.GetPolicy() != "raw" {
		t.Errorf("Locks().GetVaultLock = %v, %v", resp, err)
	}
}
