package xds

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
)

// dataPlaneJSON is one element of GET /clustering/data-planes. The field
// names follow Kong's hybrid-mode endpoint where one exists (id, ip,
// hostname, version, sync_status, last_seen in unix seconds); the xDS
// specifics (config_versions, last_error) are ours.
type dataPlaneJSON struct {
	ID             string            `json:"id"`
	IP             string            `json:"ip"`
	Hostname       string            `json:"hostname"`
	Cluster        string            `json:"cluster"`
	Version        string            `json:"version"`
	Connected      bool              `json:"connected"`
	ConnectedAt    int64             `json:"connected_at"`
	LastSeen       int64             `json:"last_seen"`
	SyncStatus     string            `json:"sync_status"`
	ConfigVersions map[string]string `json:"config_versions"`
	LastError      *nackJSON         `json:"last_error"`
	// AckedRevision is the highest store revision whose every change this
	// Envoy has ACKed (0: unknown); compare it with a write's
	// X-Switchboard-Revision to see whether the write reached this Envoy.
	AckedRevision uint64 `json:"acked_revision"`
}

type nackJSON struct {
	Type    string `json:"type"`
	Version string `json:"version"`
	Code    int32  `json:"code"`
	Message string `json:"message"`
	At      int64  `json:"at"`
}

// sync_status values: Kong's "normal", plus "config_rejected" while the
// latest response of some type stands NACKed.
const (
	syncNormal   = "normal"
	syncRejected = "config_rejected"
)

// dataPlanes lists the known Envoys sorted by id, dropping those gone for
// longer than the purge delay.
func (r *registry) dataPlanes(acks *ackHistory) []dataPlaneJSON {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	out := make([]dataPlaneJSON, 0, len(r.nodes))
	for id, dp := range r.nodes {
		if dp.streams == 0 && now.Sub(dp.LastSeen) > r.purgeAfter {
			delete(r.nodes, id)
			continue
		}
		j := dataPlaneJSON{
			ID: dp.ID, IP: dp.IP, Hostname: dp.Hostname, Cluster: dp.Cluster, Version: dp.Version,
			Connected:      dp.streams > 0,
			ConnectedAt:    dp.ConnectedAt.Unix(),
			LastSeen:       dp.LastSeen.Unix(),
			SyncStatus:     syncNormal,
			ConfigVersions: make(map[string]string, len(dp.Acked)),
		}
		for t, v := range dp.Acked {
			j.ConfigVersions[t] = v
		}
		if acks != nil {
			j.AckedRevision = acks.ackedRevision(dp.Acked)
		}
		if len(dp.rejected) > 0 {
			j.SyncStatus = syncRejected
		}
		if e := dp.LastError; e != nil {
			j.LastError = &nackJSON{Type: e.Type, Version: e.Version, Code: e.Code, Message: e.Message, At: e.At.Unix()}
		}
		out = append(out, j)
	}
	slices.SortFunc(out, func(a, b dataPlaneJSON) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// DataPlanesHandler serves GET /clustering/data-planes in Kong's list shape:
// {"data":[...],"next":null}. The admin package mounts it.
func (s *Server) DataPlanesHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.WriteHeader(http.StatusMethodNotAllowed)
			_, _ = w.Write([]byte(`{"message":"Method not allowed"}` + "\n"))
			return
		}
		// quarantined (ours) lists the entities left out after a NACK
		// (quarantine.go); Kong clients ignore the extra key.
		body := struct {
			Data        []dataPlaneJSON `json:"data"`
			Next        *string         `json:"next"`
			Quarantined []quarantined   `json:"quarantined"`
		}{Data: s.nodes.dataPlanes(s.acks), Quarantined: s.pub.quarantine.list()}
		if body.Quarantined == nil {
			body.Quarantined = []quarantined{}
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_ = json.NewEncoder(w).Encode(body)
	})
}
