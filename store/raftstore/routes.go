package raftstore

// Route is one internal path and its methods, for mounting on the Admin API.
type Route struct {
	Path    string
	Methods []string
}

// Routes lists the paths Handler serves.
func (n *Node) Routes() []Route {
	return []Route{
		{Path: pathApply, Methods: []string{"POST"}},
		{Path: pathJoin, Methods: []string{"POST"}},
		{Path: pathIndex, Methods: []string{"GET"}},
		{Path: PathSnapshot, Methods: []string{"GET", "POST"}},
	}
}
