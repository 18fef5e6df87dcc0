package translator

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// TestTranslate_EnvoyAccepts runs every golden case through the real Envoy
// (`envoy --mode validate`): ValidateAll only checks field rules, while
// Envoy also refuses combinations (a SAN check without a trusted CA, a gRPC
// health check on an HTTP/1.1 cluster) that would be NACKed at run time.
// The dynamic resources are made static: EDS clusters get their
// ClusterLoadAssignment inline, the HTTP connection manager its route
// configuration. Skipped without an Envoy binary (ENVOY_BIN or
// ../bin/envoy; make test provides one), failed without one under CI.
func TestTranslate_EnvoyAccepts(t *testing.T) {
	bin := envoyBinary(t)
	inputs, err := filepath.Glob(filepath.Join("testdata", "in", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range inputs {
		name := strings.TrimSuffix(filepath.Base(path), ".yaml")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			in, _ := loadFixture(t, path)
			res, _ := Translate(in)
			file := filepath.Join(t.TempDir(), "bootstrap.json")
			if err := os.WriteFile(file, staticBootstrap(t, res), 0o600); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(bin, "--mode", "validate", "-c", file, "--log-level", "warn", "--use-dynamic-base-id").CombinedOutput()
			if err != nil {
				t.Fatalf("envoy --mode validate: %v\n%s", err, out)
			}
		})
	}
}

// staticBootstrap renders res as a bootstrap with static resources.
func staticBootstrap(t *testing.T, res *Resources) []byte {
	t.Helper()
	routes := map[string]*routev3.RouteConfiguration{}
	for _, rc := range res.Routes {
		routes[rc.GetName()] = rc
	}
	var listeners []json.RawMessage
	for _, l := range res.Listeners {
		l = proto.Clone(l).(*listenerv3.Listener)
		chains := slices.Clone(l.GetFilterChains())
		if dc := l.GetDefaultFilterChain(); dc != nil {
			chains = append(chains, dc)
		}
		for _, fc := range chains {
			staticSecrets(t, fc)
			for _, f := range fc.GetFilters() {
				hcm := &hcmv3.HttpConnectionManager{}
				if err := f.GetTypedConfig().UnmarshalTo(hcm); err != nil {
					continue
				}
				if rds := hcm.GetRds(); rds != nil {
					hcm.RouteSpecifier = &hcmv3.HttpConnectionManager_RouteConfig{RouteConfig: routes[rds.GetRouteConfigName()]}
				}
				f.ConfigType = &listenerv3.Filter_TypedConfig{TypedConfig: mustAny(hcm)}
			}
		}
		listeners = append(listeners, marshal(t, l))
	}
	var clusters []json.RawMessage
	for i, c := range res.Clusters {
		c = proto.Clone(c).(*clusterv3.Cluster)
		c.ClusterDiscoveryType = &clusterv3.Cluster_Type{Type: clusterv3.Cluster_STATIC}
		c.EdsClusterConfig = nil
		c.LoadAssignment = res.Endpoints[i]
		clusters = append(clusters, marshal(t, c))
	}
	// Certificate secrets carry placeholder PEMs in the fixtures: Envoy
	// gets a real throw-away pair under each name; an inline CA bundle
	// becomes the throw-away certificate (a CA file is kept).
	var secrets []json.RawMessage
	for _, s := range res.Secrets {
		if s.GetTlsCertificate() == nil {
			if s.GetValidationContext().GetTrustedCa().GetInlineString() != "" {
				s = proto.Clone(s).(*tlsv3.Secret)
				cert, _ := throwawayPair()
				s.GetValidationContext().TrustedCa = inlineString(cert)
			}
			secrets = append(secrets, marshal(t, s))
			continue
		}
		cert, key := throwawayPair()
		secrets = append(secrets, marshal(t, tlsCertificateSecret(s.GetName(), cert, key)))
	}
	b, err := json.Marshal(map[string]any{
		"node":             map[string]any{"id": "validate", "cluster": "validate"},
		"static_resources": map[string]any{"listeners": listeners, "clusters": clusters, "secrets": secrets},
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// marshal renders m as JSON with every SDS reference made static: an
// SdsSecretConfig without sds_config names a static secret, which the
// bootstrap carries (validate mode has no ADS stream to fetch it from).
func marshal(t *testing.T, m proto.Message) json.RawMessage {
	t.Helper()
	b, err := protojson.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	b, err = json.Marshal(withoutSDSConfig(v))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// staticSecrets makes a filter chain's SDS references name static secrets
// (no sds_config).
func staticSecrets(t *testing.T, fc *listenerv3.FilterChain) {
	t.Helper()
	ctx := &tlsv3.DownstreamTlsContext{}
	if fc.GetTransportSocket().GetTypedConfig().UnmarshalTo(ctx) != nil {
		return
	}
	for _, sc := range ctx.GetCommonTlsContext().GetTlsCertificateSdsSecretConfigs() {
		sc.SdsConfig = nil
	}
	fc.TransportSocket.ConfigType = &corev3.TransportSocket_TypedConfig{TypedConfig: mustAny(ctx)}
}

// throwawayPair is a self-signed ECDSA certificate for localhost, made once.
var throwawayPair = sync.OnceValues(func() (string, string) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"}, DNSNames: []string{"localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		panic(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		panic(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}))
})

func withoutSDSConfig(v any) any {
	switch x := v.(type) {
	case map[string]any:
		delete(x, "sdsConfig")
		for k, e := range x {
			x[k] = withoutSDSConfig(e)
		}
	case []any:
		for i, e := range x {
			x[i] = withoutSDSConfig(e)
		}
	}
	return v
}
