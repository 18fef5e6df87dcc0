package envoyhealth

import "sync"

// Discovery lists the Envoys to poll: those the xDS server knows with an
// advertised admin address (envoy-bootstrap writes it into the node
// metadata), and the local Envoy of `serve --envoy`, whose real admin
// address the runner knows even when the flag asked for port 0.
type Discovery struct {
	nodes func() []Endpoint

	mu         sync.Mutex
	localID    string
	localAdmin func() string
}

// NewDiscovery lists nodes (connected Envoys and their advertised admin
// addresses) plus the local Envoy once SetLocal is called.
func NewDiscovery(nodes func() []Endpoint) *Discovery { return &Discovery{nodes: nodes} }

// SetLocal registers the local Envoy; admin is read at every poll because a
// restarted Envoy may listen on another port ("" while it restarts: the
// address in its metadata is not used either).
func (d *Discovery) SetLocal(nodeID string, admin func() string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.localID, d.localAdmin = nodeID, admin
}

// Endpoints is the discover function of New.
func (d *Discovery) Endpoints() []Endpoint {
	d.mu.Lock()
	localID, localAdmin := d.localID, d.localAdmin
	d.mu.Unlock()
	var out []Endpoint
	if localAdmin != nil {
		if a := localAdmin(); a != "" {
			out = append(out, Endpoint{NodeID: localID, AdminAddress: a})
		}
	}
	for _, n := range d.nodes() {
		if n.NodeID != localID {
			out = append(out, n)
		}
	}
	return out
}
