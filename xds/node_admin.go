package xds

import (
	"net"
	"net/netip"
	"slices"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
)

// NodeMetadataAdminAddress is the node metadata key under which an Envoy
// advertises its admin listener (host:port); `switchboard envoy-bootstrap`
// writes it. The control plane polls that address for host health
// (xds/envoyhealth).
const NodeMetadataAdminAddress = "admin_address"

// DataPlaneAdmin is a connected Envoy and the admin address to reach it at.
type DataPlaneAdmin struct {
	NodeID       string
	AdminAddress string
}

// DataPlaneAdmins lists the connected Envoys that advertise a usable admin
// address, sorted by node id.
func (s *Server) DataPlaneAdmins() []DataPlaneAdmin {
	r := s.nodes
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]DataPlaneAdmin, 0, len(r.nodes))
	for _, dp := range r.nodes {
		if dp.streams > 0 && dp.AdminAddress != "" {
			out = append(out, DataPlaneAdmin{NodeID: dp.ID, AdminAddress: dp.AdminAddress})
		}
	}
	slices.SortFunc(out, func(a, b DataPlaneAdmin) int { return strings.Compare(a.NodeID, b.NodeID) })
	return out
}

// nodeAdminAddress reads the advertised admin address. An unspecified host
// (0.0.0.0, ::, empty) means "every interface": the control plane dials
// the address the ADS stream came from. Port 0 (chosen by the kernel, so
// unknown to the bootstrap) and malformed values give "".
func nodeAdminAddress(n *corev3.Node, peerIP string) string {
	v := n.GetMetadata().GetFields()[NodeMetadataAdminAddress].GetStringValue()
	host, port, err := net.SplitHostPort(v)
	if err != nil || port == "" || port == "0" {
		return ""
	}
	if ip, err := netip.ParseAddr(host); host == "" || (err == nil && ip.IsUnspecified()) {
		if peerIP == "" {
			return ""
		}
		host = peerIP
	}
	return net.JoinHostPort(host, port)
}
