package admin

import (
	"crypto/md5" // Kong's configuration_hash is an MD5: it identifies, it protects nothing
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/switchboard-gw/switchboard/store"
)

// emptyConfigHash is what Kong reports before any configuration is loaded.
const emptyConfigHash = "00000000000000000000000000000000"

// configHash caches /status's configuration_hash by store revision.
type configHash struct {
	mu   sync.Mutex
	rev  uint64
	hash string
}

// configurationHash is Kong's configuration_hash (32 hex digits): the MD5
// of the state as GET /config exports it, so that two nodes holding the
// same entities report the same hash and re-applying a file leaves it as
// it was. Kong reports zeros until a configuration is loaded; here, while
// the store holds no entity. The export is O(state) and /status is polled,
// so the hash is computed once per revision, by one caller at a time.
func (s *Server) configurationHash() (string, error) {
	s.hash.mu.Lock()
	defer s.hash.mu.Unlock()
	snap := s.store.Snapshot()
	if s.hash.hash != "" && s.hash.rev == snap.Revision() {
		return s.hash.hash, nil
	}
	h, err := s.hashOf(snap)
	if err != nil {
		return "", err
	}
	s.hash.rev, s.hash.hash = snap.Revision(), h
	return h, nil
}

func (s *Server) hashOf(snap *store.Snapshot) (string, error) {
	doc, err := s.exportConfig(snap)
	if err != nil {
		return "", err
	}
	if len(doc) <= 2 { // only _format_version and _transform
		return emptyConfigHash, nil
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return "", fmt.Errorf("admin: configuration hash: %w", err)
	}
	sum := md5.Sum(b)
	return hex.EncodeToString(sum[:]), nil
}
