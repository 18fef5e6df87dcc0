package raftstore

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/hashicorp/raft"

	"github.com/switchboard-gw/switchboard/store"
)

// Internal paths, served under PathPrefix on the Admin API's listener but
// not part of the Admin API (cmd routes them around it). They are how nodes
// talk to the leader (forwarded writes, joins, readiness) and how the
// snapshot CLI saves and restores, and every one of them needs the cluster
// secret (SecretHeader).
const (
	PathPrefix    = "/_switchboard/"
	pathApply     = "/_switchboard/raft/apply"
	pathJoin      = "/_switchboard/raft/join"
	pathIndex     = "/_switchboard/raft/index"
	PathSnapshot  = "/_switchboard/snapshot"
	forwardHeader = "X-Switchboard-Forwarded"
	// SecretHeader carries Config.ClusterSecret on every internal request.
	SecretHeader = "X-Switchboard-Cluster-Secret"
)

// Handler serves the internal /_switchboard/ paths to cluster members only
// (members.go).
func (n *Node) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+pathApply, n.handleApply)
	mux.HandleFunc("POST "+pathJoin, n.handleJoin)
	mux.HandleFunc("GET "+pathIndex, n.handleIndex)
	mux.HandleFunc("GET "+PathSnapshot, n.handleSnapshotSave)
	mux.HandleFunc("POST "+PathSnapshot, n.handleSnapshotRestore)
	return membersOnly(n.cfg.ClusterSecret, mux)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

type indexResponse struct {
	Index uint64     `json:"index"`
	Error *wireError `json:"error,omitempty"`
}

// handleApply commits a write forwarded by a follower. A forwarded write is
// never forwarded again: if leadership moved meanwhile, the follower gets
// "unavailable" and its client retries, rather than requests bouncing.
func (n *Node) handleApply(w http.ResponseWriter, r *http.Request) {
	var m store.Mutation
	if err := json.NewDecoder(io.LimitReader(r.Body, maxForwardedEntry)).Decode(&m); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"message": "bad mutation: " + err.Error()})
		return
	}
	if !n.IsLeader() {
		we := toWire(fmt.Errorf("%w: not the leader", store.ErrUnavailable))
		writeJSON(w, http.StatusOK, indexResponse{Error: &we})
		return
	}
	idx, err := n.proposeLocal(&m)
	if err != nil {
		we := toWire(err)
		writeJSON(w, http.StatusOK, indexResponse{Error: &we})
		return
	}
	writeJSON(w, http.StatusOK, indexResponse{Index: idx})
}

// maxForwardedEntry caps a forwarded write: POST /config takes up to 64 MiB
// of YAML, and its one mutation carries every row with all its fields,
// which is larger (a file of 50,000 routes is a 27 MiB entry).
const maxForwardedEntry = 256 << 20

// forwardApply sends m to the leader's Admin API and returns its answer.
func (n *Node) forwardApply(adminAddr string, m *store.Mutation) (uint64, time.Duration, error) {
	raw, err := json.Marshal(m)
	if err != nil {
		return 0, 0, err
	}
	bound := n.writeBound(len(raw))
	var resp indexResponse
	if err := n.postRaw(context.Background(), adminAddr, pathApply, raw, &resp, bound); err != nil {
		return 0, bound, fmt.Errorf("%w: forward to leader: %v", store.ErrUnavailable, err)
	}
	if resp.Error != nil {
		return 0, bound, resp.Error.toError()
	}
	return resp.Index, bound, nil
}

// writeBound is how long a write of size bytes may take to commit: the
// configured bound, plus 4 s per MiB. The leader decodes, logs, replicates
// and applies a whole declarative file before it answers (a 27 MiB file
// of 50,000 routes takes seconds, many more on a starved machine); under a
// fixed bound such a write timed out at the follower while it committed.
func (n *Node) writeBound(size int) time.Duration {
	return n.cfg.ApplyTimeout + time.Duration(size>>20)*4*time.Second
}

func (n *Node) post(ctx context.Context, adminAddr, path string, body, out any) error {
	raw, err := json.Marshal(body)
	if err != nil {
		return err
	}
	return n.postRaw(ctx, adminAddr, path, raw, out, 0)
}

// postRaw posts raw; a bound above the client's own timeout replaces it
// for this request.
func (n *Node) postRaw(ctx context.Context, adminAddr, path string, raw []byte, out any, bound time.Duration) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, baseURL(adminAddr)+path, bytes.NewReader(raw))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(forwardHeader, n.cfg.NodeID)
	return n.do(req, out, bound)
}

func (n *Node) do(req *http.Request, out any, bound time.Duration) error {
	req.Header.Set(SecretHeader, n.cfg.ClusterSecret)
	c := n.client
	if bound > 0 && c.Timeout > 0 && bound+2*time.Second > c.Timeout {
		longer := *c // shares the transport: same connections, same TLS
		longer.Timeout = bound + 2*time.Second
		c = &longer
	}
	res, err := c.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
		return fmt.Errorf("%s %s: %d %s", req.Method, req.URL.Path, res.StatusCode, strings.TrimSpace(string(b)))
	}
	return json.NewDecoder(res.Body).Decode(out)
}

func baseURL(addr string) string {
	if strings.HasPrefix(addr, "http://") || strings.HasPrefix(addr, "https://") {
		return strings.TrimSuffix(addr, "/")
	}
	return "http://" + addr
}

// handleJoin adds a node as a voter (leader only; a follower forwards once).
func (n *Node) handleJoin(w http.ResponseWriter, r *http.Request) {
	var m Member
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&m); err != nil || m.ID == "" || m.RaftAddr == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"message": "join needs id and raft_address"})
		return
	}
	if err := validMember(m); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"message": "join: " + err.Error()})
		return
	}
	if !n.IsLeader() {
		leader, ok := n.leaderMember()
		if !ok || r.Header.Get(forwardHeader) != "" {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"message": "no leader to join"})
			return
		}
		var out map[string]any
		if err := n.post(r.Context(), leader.AdminAddr, pathJoin, m, &out); err != nil {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"message": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, out)
		return
	}
	f := n.raft.AddVoter(raft.ServerID(m.ID), raft.ServerAddress(m.RaftAddr), 0, n.cfg.ApplyTimeout)
	if err := f.Error(); err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"message": err.Error()})
		return
	}
	if err := n.applyEntry(entryMember, m); err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"message": err.Error()})
		return
	}
	n.log.Info("member joined", "id", m.ID, "raft", m.RaftAddr, "admin", m.AdminAddr)
	writeJSON(w, http.StatusOK, map[string]any{"leader": n.cfg.NodeID})
}

// tryJoin asks each configured member in turn to add this node.
func (n *Node) tryJoin(ctx context.Context) bool {
	me := n.self()
	for _, addr := range n.cfg.Join {
		cctx, cancel := context.WithTimeout(ctx, n.cfg.ApplyTimeout+time.Second)
		var out map[string]any
		err := n.post(cctx, addr, pathJoin, me, &out)
		cancel()
		if err == nil {
			n.log.Info("joined cluster", "via", addr)
			return true
		}
		n.log.Debug("join attempt failed", "via", addr, "err", err)
	}
	return false
}

// handleIndex answers the leader's applied index after a barrier, so a
// starting follower knows how far it must catch up.
func (n *Node) handleIndex(w http.ResponseWriter, _ *http.Request) {
	if !n.IsLeader() {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"message": "not the leader"})
		return
	}
	if err := n.raft.Barrier(n.cfg.ApplyTimeout).Error(); err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"message": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, indexResponse{Index: n.raft.AppliedIndex()})
}

func (n *Node) fetchLeaderIndex(ctx context.Context, adminAddr string) (uint64, error) {
	cctx, cancel := context.WithTimeout(ctx, n.cfg.ApplyTimeout+time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(cctx, http.MethodGet, baseURL(adminAddr)+pathIndex, nil)
	if err != nil {
		return 0, err
	}
	var resp indexResponse
	if err := n.do(req, &resp, 0); err != nil {
		return 0, err
	}
	return resp.Index, nil
}

// handleSnapshotSave streams this node's store as a Dump (a backup).
func (n *Node) handleSnapshotSave(w http.ResponseWriter, _ *http.Request) {
	d, err := n.st.Snapshot().Dump()
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"message": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, d)
}

// handleSnapshotRestore replaces the cluster's state with a Dump, through
// the log so that every node restores the same thing at the same index.
func (n *Node) handleSnapshotRestore(w http.ResponseWriter, r *http.Request) {
	var d store.Dump
	if err := json.NewDecoder(r.Body).Decode(&d); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"message": "bad snapshot: " + err.Error()})
		return
	}
	if !n.IsLeader() {
		leader, ok := n.leaderMember()
		if !ok || r.Header.Get(forwardHeader) != "" {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"message": "no leader"})
			return
		}
		var out map[string]any
		if err := n.post(r.Context(), leader.AdminAddr, PathSnapshot, &d, &out); err != nil {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"message": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, out)
		return
	}
	if err := n.applyEntry(entryRestore, &d); err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"message": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"revision": n.st.Revision()})
}
