package server

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"

	"github.com/wormvault/wormvault"
	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
	"github.com/wormvault/wormvault/vault"
)

// accessPointService implements wormvaultv1.AccessPointServiceServer. The
// rules (names, CIDRs, policies, authorization, what "ap/NAME" means to an
// archive request) live in the store (vault/accesspoints.go); this is the
// wire.
type accessPointService struct {
	wormvaultv1.UnimplementedAccessPointServiceServer
	store *vault.Store
}

func (a *accessPointService) CreateAccessPoint(ctx context.Context, req *wormvaultv1.CreateAccessPointRequest) (*wormvaultv1.CreateAccessPointResponse, error) {
	if req.GetNetworkOrigin() == nil {
		return nil, wormvault.InvalidArgument("network_origin", "required: the CIDRs requests through the access point may come from")
	}
	ap, err := a.store.CreateAccessPoint(ctx, callerOf(ctx), vault.NewAccessPoint{
		Name:         req.GetName(),
		Vault:        req.GetVault(),
		Policy:       req.GetPolicy(),
		AllowedCIDRs: req.GetNetworkOrigin().GetAllowedCidrs(),
	})
	if err != nil {
		return nil, err
	}
	return &wormvaultv1.CreateAccessPointResponse{AccessPoint: accessPointToProto(ap)}, nil
}

func (a *accessPointService) GetAccessPoint(ctx context.Context, req *wormvaultv1.GetAccessPointRequest) (*wormvaultv1.GetAccessPointResponse, error) {
	ap, err := a.store.GetAccessPoint(ctx, callerOf(ctx), req.GetName())
	if err != nil {
		return nil, err
	}
	return &wormvaultv1.GetAccessPointResponse{AccessPoint: accessPointToProto(ap)}, nil
}

func (a *accessPointService) ListAccessPoints(ctx context.Context, req *wormvaultv1.ListAccessPointsRequest) (*wormvaultv1.ListAccessPointsResponse, error) {
	size, err := pageSize(req.GetPageSize())
	if err != nil {
		return nil, err
	}
	after := req.GetPageToken()
	if after != "" && wormvault.ValidateAccessPointName("page_token", after) != nil {
		return nil, wormvault.InvalidArgument("page_token", "not a token this server issued")
	}
	aps, more, err := a.store.ListAccessPoints(ctx, callerOf(ctx), req.GetVault(), after, size)
	if err != nil {
		return nil, err
	}
	resp := &wormvaultv1.ListAccessPointsResponse{}
	for _, ap := range aps {
		resp.AccessPoints = append(resp.AccessPoints, accessPointToProto(ap))
	}
	if more {
		resp.NextPageToken = aps[len(aps)-1].Name
	}
	return resp, nil
}

func (a *accessPointService) UpdateAccessPointPolicy(ctx context.Context, req *wormvaultv1.UpdateAccessPointPolicyRequest) (*wormvaultv1.UpdateAccessPointPolicyResponse, error) {
	ap, err := a.store.UpdateAccessPointPolicy(ctx, callerOf(ctx), req.GetName(), req.GetPolicy())
	if err != nil {
		return nil, err
	}
	return &wormvaultv1.UpdateAccessPointPolicyResponse{AccessPoint: accessPointToProto(ap)}, nil
}

func (a *accessPointService) DeleteAccessPoint(ctx context.Context, req *wormvaultv1.DeleteAccessPointRequest) (*wormvaultv1.DeleteAccessPointResponse, error) {
	if err := a.store.DeleteAccessPoint(ctx, callerOf(ctx), req.GetName()); err != nil {
		return nil, err
	}
	return &wormvaultv1.DeleteAccessPointResponse{}, nil
}

// forwardedForMetadata is the header a proxy names the client in.
const forwardedForMetadata = "x-forwarded-for"

// parseTrustedProxies parses Config.TrustedProxies.
func parseTrustedProxies(cidrs []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(cidrs))
	for _, c := range cidrs {
		p, err := netip.ParsePrefix(strings.TrimSpace(c))
		if err != nil {
			return nil, fmt.Errorf("server: config: trusted proxy %q is not a CIDR such as 10.0.0.0/8 (one address: 192.0.2.7/32)", c)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// sourceIP is the address a request comes from, for policy conditions
// (request.source_ip) and access points' network origins: the TCP peer's.
// With TrustProxyHeader, a request whose peer is a trusted proxy comes
// from the first hop of its x-forwarded-for (the client as the first proxy
// saw it); a peer that is not a trusted proxy cannot claim another address,
// whatever header it sends. A trusted proxy's malformed header yields "",
// which is in no network origin: failing closed beats crediting the
// proxy's own address.
func (s *Server) sourceIP(ctx context.Context, md metadata.MD) string {
	p, ok := peer.FromContext(ctx)
	if !ok {
		return ""
	}
	host, _, err := net.SplitHostPort(p.Addr.String())
	if err != nil {
		return ""
	}
	if len(s.proxies) == 0 {
		return host
	}
	addr, err := netip.ParseAddr(host)
	if err != nil || !anyContains(s.proxies, addr.Unmap().WithZone("")) {
		return host
	}
	hops := md.Get(forwardedForMetadata)
	if len(hops) == 0 {
		return host // the proxy's own call
	}
	first, _, _ := strings.Cut(hops[0], ",")
	client, err := netip.ParseAddr(strings.TrimSpace(first))
	if err != nil {
		return ""
	}
	return client.Unmap().WithZone("").String()
}

func anyContains(prefixes []netip.Prefix, a netip.Addr) bool {
	for _, p := range prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
