package server

import (
	"context"
	"errors"
	"fmt"

	"github.com/wormvault/wormvault"
	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
	"github.com/wormvault/wormvault/vault"
)

// mfaMetadata carries "<device> <code>" when a request proves MFA.
const mfaMetadata = "x-wormvault-mfa"

// verifyMFA checks the MFA metadata of an authenticated request and spends
// its code. A wrong code fails the request: it is never silently ignored.
// Failures are slowed per device, as failed authentications are per key.
func (s *Server) verifyMFA(ctx context.Context, caller vault.Caller, vals []string) error {
	if len(vals) != 1 {
		return fmt.Errorf("%w: send one %s: <device> <code>", wormvault.ErrMFAInvalid, mfaMetadata)
	}
	device, _, err := vault.ParseMFAHeader(vals[0])
	if err != nil {
		return err
	}
	if err := s.authLimit.check("mfa:" + device); err != nil {
		return err
	}
	err = s.store.VerifyMFA(ctx, vals[0])
	if errors.Is(err, wormvault.ErrMFAInvalid) {
		s.authLimit.failed("mfa:" + device)
		s.log.WarnContext(ctx, "failed MFA", "device", device, "principal", caller.Principal, "request_id", requestID(ctx), "err", err)
	}
	return err
}

func (i *identityService) RegisterMFADevice(ctx context.Context, req *wormvaultv1.RegisterMFADeviceRequest) (*wormvaultv1.RegisterMFADeviceResponse, error) {
	r, err := i.store.RegisterMFADevice(ctx, callerOf(ctx), req.GetName())
	if err != nil {
		return nil, err
	}
	return &wormvaultv1.RegisterMFADeviceResponse{OtpauthUrl: string(r.OTPAuthURL), Secret: string(r.Secret)}, nil
}

func (i *identityService) ConfirmMFADevice(ctx context.Context, req *wormvaultv1.ConfirmMFADeviceRequest) (*wormvaultv1.ConfirmMFADeviceResponse, error) {
	if err := i.store.ConfirmMFADevice(ctx, callerOf(ctx), req.GetName(), req.GetCode()); err != nil {
		return nil, err
	}
	return &wormvaultv1.ConfirmMFADeviceResponse{}, nil
}
