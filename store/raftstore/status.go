package raftstore

import (
	"net/http"
	"strconv"
)

// Status is the body of GET /clustering/status.
type Status struct {
	NodeID       string         `json:"node_id"`
	State        string         `json:"state"`
	Leader       *MemberStatus  `json:"leader"`
	Members      []MemberStatus `json:"members"`
	CommitIndex  uint64         `json:"commit_index"`
	AppliedIndex uint64         `json:"applied_index"`
	LastIndex    uint64         `json:"last_index"`
	Revision     uint64         `json:"revision"`
}

// MemberStatus is one voter of the raft configuration.
type MemberStatus struct {
	ID        string `json:"id"`
	RaftAddr  string `json:"raft_address"`
	AdminAddr string `json:"admin_address"`
	Suffrage  string `json:"suffrage"`
	Leader    bool   `json:"leader"`
}

// Status reports this node's view of the cluster.
func (n *Node) Status() Status {
	stats := n.raft.Stats()
	commit, _ := strconv.ParseUint(stats["commit_index"], 10, 64)
	s := Status{
		NodeID:       n.cfg.NodeID,
		State:        n.raft.State().String(),
		CommitIndex:  commit,
		AppliedIndex: n.raft.AppliedIndex(),
		LastIndex:    n.raft.LastIndex(),
		Revision:     n.st.Revision(),
		Members:      []MemberStatus{},
	}
	_, leaderID := n.raft.LeaderWithID()
	if f := n.raft.GetConfiguration(); f.Error() == nil {
		for _, srv := range f.Configuration().Servers {
			ms := MemberStatus{ID: string(srv.ID), RaftAddr: string(srv.Address), Suffrage: srv.Suffrage.String(), Leader: srv.ID == leaderID}
			if m, ok := n.fsm.member(ms.ID); ok {
				ms.AdminAddr = m.AdminAddr
			}
			if ms.Leader {
				l := ms
				s.Leader = &l
			}
			s.Members = append(s.Members, ms)
		}
	}
	return s
}

// StatusHandler serves GET /clustering/status.
func (n *Node) StatusHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, n.Status())
	})
}
