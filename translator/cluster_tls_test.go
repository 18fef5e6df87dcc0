package translator

import (
	"strings"
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	upstreamhttpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"

	"github.com/switchboard-gw/switchboard/store"
)

// tlsFixture is a small input with every upstream TLS reference: an
// upstream with a client certificate, services that verify or present
// their own certificate, CA certificates, and a dangling id.
func tlsFixture() *Input {
	yes := true
	hh := "hh.example"
	up := defaultUpstream()
	up.ID, up.Name = "u1", "tls-up"
	up.ClientCertificate = &store.ForeignKey{ID: "cert-up"}
	up.Healthchecks.Active.Type = "https"
	up.Healthchecks.Active.Healthy.Interval = 1
	up.Healthchecks.Active.Unhealthy.Interval = 1
	withHH := defaultUpstream()
	withHH.ID, withHH.Name, withHH.HostHeader = "u2", "hh-up", &hh
	ipHH := "10.9.9.9"
	withIPHH := defaultUpstream()
	withIPHH.ID, withIPHH.Name, withIPHH.HostHeader = "u3", "iphh-up", &ipHH

	svc := func(id, host string, mod func(*store.Service)) *store.Service {
		s := defaultService()
		s.ID, s.Host, s.Protocol, s.Port = id, host, "https", 443
		if mod != nil {
			mod(s)
		}
		return s
	}
	route := func(id, svcID string, preserve bool) *store.Route {
		r := defaultRoute()
		r.ID, r.Paths, r.Service, r.PreserveHost = id, []string{"/" + id}, &store.ForeignKey{ID: svcID}, preserve
		return r
	}
	return &Input{
		Services: []*store.Service{
			svc("s-plain", "tls-up", nil),
			svc("s-verify", "tls-up", func(s *store.Service) { s.TLSVerify, s.CACertificates = &yes, []string{"ca-2", "ca-1", "ca-gone"} }),
			svc("s-cert", "tls-up", func(s *store.Service) { s.ClientCertificate = &store.ForeignKey{ID: "cert-svc"} }),
			svc("s-dangling", "tls-up", func(s *store.Service) { s.ClientCertificate = &store.ForeignKey{ID: "cert-gone"} }),
			svc("s-roots", "10.0.0.9", func(s *store.Service) { s.TLSVerify = &yes }),
			svc("s-hh", "hh-up", nil),
			svc("s-iphh", "iphh-up", nil),
			svc("s-http", "tls-up", func(s *store.Service) { s.Protocol, s.Port = "http", 80 }),
		},
		Routes: []*store.Route{
			route("r-plain", "s-plain", false), route("r-verify", "s-verify", false), route("r-cert", "s-cert", false),
			route("r-dangling", "s-dangling", false), route("r-roots", "s-roots", false), route("r-hh", "s-hh", false), route("r-iphh", "s-iphh", false),
			route("r-preserve", "s-plain", true), route("r-http-preserve", "s-http", true), route("r-roots-preserve", "s-roots", true),
		},
		Upstreams: []*store.Upstream{up, withHH, withIPHH},
		Targets: []*store.Target{
			{ID: "t1", Upstream: store.ForeignKey{ID: "u1"}, Target: "10.0.0.1:8443", Weight: 100},
			{ID: "t2", Upstream: store.ForeignKey{ID: "u1"}, Target: "named.test:8443", Weight: 100},
			{ID: "t3", Upstream: store.ForeignKey{ID: "u2"}, Target: "10.0.0.3:8443", Weight: 100},
		},
		Certificates: []*store.Certificate{{ID: "cert-up"}, {ID: "cert-svc"}},
		CACertificates: []*store.CACertificate{
			{ID: "ca-1", Cert: "-----BEGIN CERTIFICATE-----\nONE\n-----END CERTIFICATE-----\n"},
			{ID: "ca-2", Cert: "-----BEGIN CERTIFICATE-----\nTWO\n-----END CERTIFICATE-----"},
		},
		DNS:     map[string]DNSAnswer{"named.test": {RecordType: "A", Addresses: []Address{{IP: "10.0.0.2"}}}},
		Options: Options{TrustedCAFile: "/tmp/bundle.pem"},
	}
}

func TestClusterTLS(t *testing.T) {
	res, err := Translate(tlsFixture())
	if err != nil {
		t.Fatal(err)
	}
	clusters := map[string]*clusterv3.Cluster{}
	for _, c := range res.Clusters {
		clusters[c.GetName()] = c
	}
	ctxOf := func(t *testing.T, name string) *tlsv3.UpstreamTlsContext {
		t.Helper()
		c := clusters[name]
		if c == nil {
			t.Fatalf("no cluster %s among %v", name, sortedKeys(clusters))
		}
		ctx := &tlsv3.UpstreamTlsContext{}
		if err := c.GetTransportSocket().GetTypedConfig().UnmarshalTo(ctx); err != nil {
			t.Fatal(err)
		}
		return ctx
	}
	certOf := func(ctx *tlsv3.UpstreamTlsContext) string {
		if s := ctx.GetCommonTlsContext().GetTlsCertificateSdsSecretConfigs(); len(s) == 1 {
			return s[0].GetName()
		}
		return ""
	}
	caOf := func(ctx *tlsv3.UpstreamTlsContext) string {
		return ctx.GetCommonTlsContext().GetCombinedValidationContext().GetValidationContextSdsSecretConfig().GetName()
	}

	t.Run("client certificate: the service's wins, else the upstream's; a dangling id is none", func(t *testing.T) {
		for name, want := range map[string]string{
			"upstream/tls-up/https/60000":                    "cert/cert-up",
			"upstream/tls-up/https/60000/cert:cert-svc":      "cert/cert-svc",
			"upstream/tls-up/https-verify/60000/ca:s-verify": "cert/cert-up",
			"service/s-roots":                                "",
		} {
			if got := certOf(ctxOf(t, name)); got != want {
				t.Errorf("%s presents %q, want %q", name, got, want)
			}
		}
	})

	t.Run("tls_verify: the service's CA secret and a name check", func(t *testing.T) {
		ctx := ctxOf(t, "upstream/tls-up/https-verify/60000/ca:s-verify")
		if caOf(ctx) != "ca/s-verify" || !ctx.GetAutoSniSanValidation() {
			t.Errorf("verify cluster: ca %q, san check %v", caOf(ctx), ctx.GetAutoSniSanValidation())
		}
		if ctx := ctxOf(t, "upstream/tls-up/https/60000"); caOf(ctx) != "" || ctx.GetAutoSniSanValidation() {
			t.Errorf("tls_verify null verifies: %v", ctx)
		}
	})

	t.Run("SNI: endpoint hostname, none for IPs, host_header literal, client Host with preserve_host", func(t *testing.T) {
		ctx := ctxOf(t, "upstream/tls-up/https/60000")
		if !ctx.GetAutoHostSni() || ctx.GetSni() != "" {
			t.Errorf("upstream SNI: auto %v sni %q", ctx.GetAutoHostSni(), ctx.GetSni())
		}
		matches := clusters["upstream/tls-up/https/60000"].GetTransportSocketMatches()
		if len(matches) != 2 || matches[0].GetName() != "no-sni" || matches[1].GetName() != "health-check-tls" {
			t.Fatalf("socket matches = %v", matches)
		}
		noSNI := &tlsv3.UpstreamTlsContext{}
		if err := matches[0].GetTransportSocket().GetTypedConfig().UnmarshalTo(noSNI); err != nil {
			t.Fatal(err)
		}
		if noSNI.GetAutoHostSni() || noSNI.GetSni() != "" || certOf(noSNI) != "cert/cert-up" {
			t.Errorf("no-sni socket = %v", noSNI)
		}
		if ctx := ctxOf(t, "upstream/hh-up/https/60000"); ctx.GetSni() != "hh.example" || ctx.GetAutoHostSni() {
			t.Errorf("host_header SNI: %v", ctx)
		}
		if m := clusters["upstream/hh-up/https/60000"].GetTransportSocketMatches(); len(m) != 0 {
			t.Errorf("a literal SNI needs no no-sni socket: %v", m)
		}
		if ctx := ctxOf(t, "upstream/iphh-up/https/60000"); ctx.GetSni() != "" || ctx.GetAutoHostSni() {
			t.Errorf("an IP host_header is sent as SNI: %v", ctx)
		}
		for _, name := range []string{"upstream/tls-up/https-preserve-host/60000", "service/s-roots/preserve-host"} {
			o := &upstreamhttpv3.HttpProtocolOptions{}
			if err := clusters[name].GetTypedExtensionProtocolOptions()[httpProtocolOptionsKey].UnmarshalTo(o); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if !o.GetUpstreamHttpProtocolOptions().GetAutoSni() {
				t.Errorf("%s: no auto_sni", name)
			}
		}
		if _, split := clusters["upstream/tls-up/http-preserve-host/60000"]; split {
			t.Error("a plain-HTTP preserve_host route got a cluster of its own")
		}
	})

	t.Run("IP endpoints of TLS clusters carry the no-SNI metadata", func(t *testing.T) {
		marked := map[string]bool{}
		for _, cla := range res.Endpoints {
			for _, lep := range cla.GetEndpoints() {
				for _, ep := range lep.GetLbEndpoints() {
					_, has := ep.GetMetadata().GetFilterMetadata()[transportSocketMatchFilter]
					marked[cla.GetClusterName()+" "+hostnameOf(ep)] = has
				}
			}
		}
		for key, want := range map[string]bool{
			"upstream/tls-up/https/60000 10.0.0.1": true, "upstream/tls-up/https/60000 named.test": false,
			"upstream/tls-up/http/60000 10.0.0.1:8443": false, "service/s-roots 10.0.0.9": true,
		} {
			if got, ok := marked[key]; !ok || got != want {
				t.Errorf("%s: marked %v (present %v), want %v; all %v", key, got, ok, want, marked)
			}
		}
	})

	t.Run("probes present the upstream's certificate and verify with the bundle", func(t *testing.T) {
		c := clusters["upstream/tls-up/https/60000/cert:cert-svc"]
		var probe *tlsv3.UpstreamTlsContext
		for _, m := range c.GetTransportSocketMatches() {
			if m.GetName() == "health-check-tls" {
				probe = &tlsv3.UpstreamTlsContext{}
				if err := m.GetTransportSocket().GetTypedConfig().UnmarshalTo(probe); err != nil {
					t.Fatal(err)
				}
			}
		}
		if probe == nil {
			t.Fatal("no probe socket")
		}
		if certOf(probe) != "cert/cert-up" || !probe.GetAutoSniSanValidation() ||
			probe.GetCommonTlsContext().GetValidationContext().GetTrustedCa().GetFilename() != "/tmp/bundle.pem" {
			t.Errorf("probe socket = %v", probe)
		}
	})

	t.Run("CA secrets: listed CAs in order, else the bundle", func(t *testing.T) {
		secrets := map[string]*tlsv3.Secret{}
		for _, s := range res.Secrets {
			if strings.HasPrefix(s.GetName(), "ca/") {
				secrets[s.GetName()] = s
			}
		}
		got := secrets["ca/s-verify"].GetValidationContext().GetTrustedCa().GetInlineString()
		if want := "-----BEGIN CERTIFICATE-----\nTWO\n-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\nONE\n-----END CERTIFICATE-----\n"; got != want {
			t.Errorf("ca/s-verify = %q, want %q", got, want)
		}
		if f := secrets["ca/s-roots"].GetValidationContext().GetTrustedCa().GetFilename(); f != "/tmp/bundle.pem" {
			t.Errorf("ca/s-roots file = %q", f)
		}
		if len(secrets) != 2 {
			t.Errorf("secrets = %v, want the two verifying services'", sortedKeys(secrets))
		}
	})
}

func hostnameOf(ep *endpointv3.LbEndpoint) string { return ep.GetEndpoint().GetHostname() }

func TestParseClusterName_TLS(t *testing.T) {
	yes := true
	u := &store.Upstream{Name: "u"}
	svc := &store.Service{ID: "s1", Protocol: "https", TLSVerify: &yes, ClientCertificate: &store.ForeignKey{ID: "c1"}}
	v := variantOf(svc)
	v.preserveHost = true
	name := v.clusterName(u.Name)
	if name != "upstream/u/https-verify-preserve-host/60000/ca:s1/cert:c1" {
		t.Fatalf("name = %q", name)
	}
	ref, ok := ParseClusterName(name)
	if !ok || variantOfRef(ref) != v {
		t.Errorf("ParseClusterName(%q) = %+v, %v; variant %+v", name, ref, ok, variantOfRef(ref))
	}
	if ref, ok := ParseClusterName("service/s1/preserve-host"); !ok || ref.ServiceID != "s1" || !ref.PreserveHost {
		t.Errorf("service preserve-host: %+v %v", ref, ok)
	}
	for _, bad := range []string{"upstream/u/https/1/ca:s1", "upstream/u/http/1/cert:c", "upstream/u/https/1/x:y",
		"upstream/u/http-preserve-host/1", "service/s1/other", "upstream/u/https-verify/1/cert:c/ca:s"} {
		if ref, ok := ParseClusterName(bad); ok {
			t.Errorf("ParseClusterName(%q) = %+v, want not ok", bad, ref)
		}
	}
}
