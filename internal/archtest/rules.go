package archtest

// module is the import path prefix of our own packages.
const module = "github.com/switchboard-gw/switchboard"

// A rule says what one package (or a tree, "x/...") may import from this
// module, and which outside import paths it must not use. Patterns are
// module-relative: "store" is exactly store/, "xds/..." is xds/ and every
// package below it, "*" is anything of ours. The longest matching pattern
// wins, so a subpackage can be stricter or looser than its parent.
type rule struct {
	pkg string
	// may lists the packages of ours its non-test files may import.
	may []string
	// deny lists outside import path prefixes its non-test files must not use.
	deny []string
	// why is the reason, printed when the rule is broken.
	why string
}

// testHelpers are the internal/ packages any package's tests may import on
// top of what the package itself may: they run processes and speak HTTP and
// ADS, and import nothing of ours.
var testHelpers = []string{"internal/testenv", "internal/adstest", "internal/poll"}

// envoyProtos is the outside prefix of go-control-plane (protos and cache).
const envoyProtos = "github.com/envoyproxy"

// rules is the package table of ARCHITECTURE.md. Adding a package means
// adding a row here and there.
var rules = []rule{
	{pkg: "store", deny: []string{envoyProtos},
		why: "store owns the entities and imports nothing of ours; it never knows Envoy exists"},
	{pkg: "store/raftstore", may: []string{"store"}, deny: []string{envoyProtos},
		why: "raftstore replicates store mutations and knows nothing above the store"},
	{pkg: "schema/...", may: []string{"schema/..."},
		why: "the Kong schema package is pure data and functions, importable by admin and translator alike"},
	{pkg: "admin/...", may: []string{"store", "schema/...", "admin/..."}, deny: []string{envoyProtos},
		why: "admin is HTTP only: it applies the schemas and calls the store; it never knows Envoy exists"},
	{pkg: "translator/...", may: []string{"store", "schema/...", "translator/..."},
		deny: []string{"net/http", "google.golang.org/grpc"},
		why:  "the translator is a pure function from a store snapshot to Envoy protos: no I/O"},
	{pkg: "xds/...", may: []string{"store", "translator/...", "schema/...", "xds/..."},
		why: "xds serves what the translator built; nothing imports admin but cmd"},
	{pkg: "ratelimit/...", may: []string{"store", "schema/...", "ratelimit/..."},
		why: "the rate-limit service reads the store; it is wired by cmd, never by admin or xds"},
	{pkg: "manager/...", may: []string{"manager/..."},
		why: "the Manager UI talks to the Admin API over HTTP like any client; cmd mounts it"},
	{pkg: "envoy/...", may: []string{"envoy/..."},
		why: "envoy/ holds bootstrap templates and runs an Envoy binary; it imports nothing of ours"},
	{pkg: "cmd/...", may: []string{"*"},
		why: "cmd is the wiring and may import everything"},
	{pkg: "e2e/...", may: testHelpers,
		why: "e2e runs the real binary and talks HTTP like a user; only the internal/ test helpers are allowed"},
	{pkg: "bench/...", may: append([]string{"bench/..."}, testHelpers...),
		why: "bench drives the real binary like e2e does, through the same internal/ helpers"},
	{pkg: "internal/poll", why: "a test helper imports nothing of ours"},
	{pkg: "internal/testenv/...", may: []string{"internal/poll", "internal/testenv/..."},
		why: "a test helper imports nothing of ours but the other helpers"},
	{pkg: "internal/adstest/...", may: []string{"internal/poll", "internal/adstest/..."},
		why: "a test helper imports nothing of ours but the other helpers"},
	{pkg: "internal/archtest", why: "the imports test reads go list and nothing of ours"},
	{pkg: "internal/featuretests", may: append([]string{"admin", "store", "xds"}, testHelpers...),
		why: "feature tests run the Admin API, the store and xds in one process against internal/adstest"},
}
