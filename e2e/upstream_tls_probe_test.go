package e2e

import (
	"fmt"
	"net/url"
	"testing"
)

// TestUpstreamTLS_ActiveHTTPSProbe: Kong's https active checks through
// Envoy with --upstream-trusted-ca (Kong's lua_ssl_trusted_certificate)
// naming the test's CA: https_sni names the certificate's host, so the
// verified probe passes; another https_sni fails the name check and marks
// the target unhealthy, unless https_verify_certificate is off. Probes
// present the upstream's client certificate. The same bundle is what
// tls_verify=true trusts when a service names no ca_certificates.
func TestUpstreamTLS_ActiveHTTPSProbe(t *testing.T) {
	t.Parallel()
	ca, clientCA := newTestCA(t, "probe-ca"), newTestCA(t, "probe-client-ca")
	bundle := writeFile(t, t.TempDir(), "bundle.pem", ca.pem)
	plain := startTLSBackend(t, "probe-plain", ca.issueLeaf(t, "probe", []string{"probe.test"}), nil)
	mtls := startTLSBackend(t, "probe-mtls", ca.issueLeaf(t, "probe", []string{"probe.test"}), certPool(clientCA))
	s := startStack(t, stackOptions{hosts: map[string]string{"probe.test": plain.ip},
		extraArgs: []string{"--upstream-trusted-ca", bundle}})

	checks := func(extra ...string) url.Values {
		v := activeChecks()
		v.Set("healthchecks.active.type", "https")
		v.Set("healthchecks.active.http_path", "/")
		for i := 0; i+1 < len(extra); i += 2 {
			v.Set(extra[i], extra[i+1])
		}
		return v
	}
	wait := func(t *testing.T, upstream string, b *tlsBackend, want string) {
		t.Helper()
		d := eventually(t, convergeBound, fmt.Sprintf("%s %s", upstream, want), func() (bool, string) {
			th := s.health(upstream)[b.target()]
			return th.Health == want, fmt.Sprintf("%+v", th)
		})
		t.Logf("%s: target %s after %s", upstream, want, d)
	}

	tlsSetup{name: "probe-sni", targets: []string{plain.target()},
		upstream: checks("healthchecks.active.https_sni", "probe.test")}.create(s)
	wait(t, "probe-sni", plain, "HEALTHY")

	t.Run("a wrong https_sni fails the verified probe; unverified it passes", func(t *testing.T) {
		s.mustAPI("PATCH", "/upstreams/probe-sni", checks("healthchecks.active.https_sni", "wrong.test"), 200)
		wait(t, "probe-sni", plain, "UNHEALTHY")
		s.mustAPI("PATCH", "/upstreams/probe-sni", checks("healthchecks.active.https_sni", "wrong.test",
			"healthchecks.active.https_verify_certificate", "false"), 200)
		wait(t, "probe-sni", plain, "HEALTHY")
	})

	t.Run("without https_sni the probe's SNI is host_header, else the target's (an IP here)", func(t *testing.T) {
		hh := checks()
		hh.Set("host_header", "probe.test")
		tlsSetup{name: "probe-hh", targets: []string{plain.target()}, upstream: hh}.create(s)
		wait(t, "probe-hh", plain, "HEALTHY")
		tlsSetup{name: "probe-ip", targets: []string{plain.target()}, upstream: checks()}.create(s)
		wait(t, "probe-ip", plain, "UNHEALTHY")
	})

	t.Run("an https probe of a plain HTTP target fails, with or without a client certificate", func(t *testing.T) {
		// Kong's 01-healthchecks_spec "create active health checks --
		// global certificate / -- upstream certificate".
		h := startCtlBackend(t, "probe-http")
		l := clientCA.issueLeaf(t, "probe-plain-client", nil)
		cert := s.mustAPI("POST", "/certificates", form("cert", l.certPEM, "key", l.keyPEM), 201)["id"].(string)
		withCert := checks("healthchecks.active.https_verify_certificate", "false")
		withCert.Set("client_certificate.id", cert)
		for name, up := range map[string]url.Values{"probe-http": checks("healthchecks.active.https_verify_certificate", "false"), "probe-http-cert": withCert} {
			tlsSetup{name: name, targets: []string{h.target()}, upstream: up}.create(s)
			d := eventually(t, convergeBound, name+" UNHEALTHY", func() (bool, string) {
				th := s.health(name)[h.target()]
				return th.Health == "UNHEALTHY", fmt.Sprintf("%+v", th)
			})
			t.Logf("%s: UNHEALTHY after %s", name, d)
		}
	})

	t.Run("probes present the upstream's client certificate", func(t *testing.T) {
		l := clientCA.issueLeaf(t, "probe-client", nil)
		cert := s.mustAPI("POST", "/certificates", form("cert", l.certPEM, "key", l.keyPEM), 201)["id"].(string)
		tlsSetup{name: "probe-mtls", targets: []string{mtls.target()},
			upstream: checks("healthchecks.active.https_sni", "probe.test")}.create(s)
		wait(t, "probe-mtls", mtls, "UNHEALTHY")
		up := checks("healthchecks.active.https_sni", "probe.test")
		up.Set("client_certificate.id", cert)
		s.mustAPI("PATCH", "/upstreams/probe-mtls", up, 200)
		wait(t, "probe-mtls", mtls, "HEALTHY")
	})

	t.Run("tls_verify without ca_certificates trusts the bundle, name checked", func(t *testing.T) {
		named := "probe.test:" + fmt.Sprint(plain.port)
		tlsSetup{name: "probe-verify", targets: []string{named}, service: form("tls_verify", "true")}.create(s)
		s.converge("/probe-verify 200", func() (bool, string) {
			r := s.get("/probe-verify", "")
			return r.status == 200 && r.backend == plain.name, r.String()
		})
		tlsSetup{name: "probe-verify-hh", targets: []string{named}, upstream: form("host_header", "other.test"),
			service: form("tls_verify", "true")}.create(s)
		s.converge("/probe-verify-hh 502 (host_header is the SNI, not in the certificate)", func() (bool, string) {
			r := s.get("/probe-verify-hh", "")
			return r.status == 502, r.String()
		})
	})
}
