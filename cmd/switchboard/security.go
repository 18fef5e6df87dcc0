package main

import (
	"bufio"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/switchboard-gw/switchboard/admin"
)

// clusterSecretFile is where a node keeps the secret of its cluster's
// internal endpoints when none is given (store/raftstore/members.go).
const clusterSecretFile = "cluster-secret"

// loadClusterSecret returns the secret every member of the cluster shares:
// --cluster-secret, else the file --cluster-secret-file names, else
// dataDir/cluster-secret, created (0600, random) on first start. A node
// joining an existing cluster must be given the first node's secret.
func loadClusterSecret(secret, file, dataDir string, create bool) (string, error) {
	if secret != "" {
		return secret, nil
	}
	explicit := file != ""
	if !explicit {
		file = filepath.Join(dataDir, clusterSecretFile)
	}
	b, err := os.ReadFile(file)
	switch {
	case err == nil:
		if s := strings.TrimSpace(string(b)); s != "" {
			return s, nil
		}
		return "", fmt.Errorf("cluster secret: %s is empty", file)
	case !errors.Is(err, os.ErrNotExist) || explicit || !create:
		return "", fmt.Errorf("cluster secret: %w", err)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("cluster secret: %w", err)
	}
	s := hex.EncodeToString(raw)
	if err := os.WriteFile(file, []byte(s+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("cluster secret: %w", err)
	}
	return s, nil
}

// loadAdminTokens collects --admin-token (read-write) and the lines of
// --admin-tokens-file: "SECRET" or "SECRET read-write" for full access,
// "SECRET read-only" for GET only; blank lines and # comments are skipped.
func loadAdminTokens(token, file string) ([]admin.Token, error) {
	var out []admin.Token
	if token != "" {
		out = append(out, admin.Token{Secret: token})
	}
	if file == "" {
		return out, nil
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("--admin-tokens-file: %w", err)
	}
	defer func() { _ = f.Close() }()
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		t := admin.Token{Secret: fields[0]}
		switch {
		case len(fields) == 1 || (len(fields) == 2 && fields[1] == "read-write"):
		case len(fields) == 2 && fields[1] == "read-only":
			t.ReadOnly = true
		default:
			return nil, fmt.Errorf("--admin-tokens-file %s:%d: want \"TOKEN [read-only|read-write]\"", file, line)
		}
		out = append(out, t)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("--admin-tokens-file: %w", err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("--admin-tokens-file %s: no tokens", file)
	}
	return out, nil
}

// serverTLS builds a listener's TLS config from a certificate, its key and
// an optional client CA; with the CA every client must present a
// certificate it signed (mTLS). No cert means no TLS (nil).
func serverTLS(flagPrefix, certFile, keyFile, clientCAFile string) (*tls.Config, error) {
	if certFile == "" && keyFile == "" {
		if clientCAFile != "" {
			return nil, fmt.Errorf("--%s-ca needs --%s-cert and --%s-key", flagPrefix, flagPrefix, flagPrefix)
		}
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("--%s-cert/--%s-key: %w", flagPrefix, flagPrefix, err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if clientCAFile != "" {
		pool, err := loadCertPool(clientCAFile)
		if err != nil {
			return nil, fmt.Errorf("--%s-ca: %w", flagPrefix, err)
		}
		cfg.ClientCAs = pool
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return cfg, nil
}

func loadCertPool(file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s: no PEM certificates", file)
	}
	return pool, nil
}

// peerClient is how this node calls other members' Admin API listeners
// (forwarded writes, joins). With admin TLS on, the members trust the
// admin CA and present their own certificate (it must allow client auth
// when --admin-tls-ca requires mTLS).
func peerClient(cfg *serveConfig, timeout time.Duration) (*http.Client, error) {
	c := &http.Client{Timeout: timeout}
	if cfg.AdminTLSCert == "" {
		return c, nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.AdminTLSCA != "" {
		pool, err := loadCertPool(cfg.AdminTLSCA)
		if err != nil {
			return nil, fmt.Errorf("--admin-tls-ca: %w", err)
		}
		tc.RootCAs = pool
	}
	cert, err := tls.LoadX509KeyPair(cfg.AdminTLSCert, cfg.AdminTLSKey)
	if err != nil {
		return nil, fmt.Errorf("--admin-tls-cert: %w", err)
	}
	tc.Certificates = []tls.Certificate{cert}
	c.Transport = &http.Transport{TLSClientConfig: tc}
	return c, nil
}

// exposureWarnings are the loud warnings of a listener reachable from
// other machines without authentication: logged at start and shown in
// GET / ("warnings").
func exposureWarnings(cfg *serveConfig, adminAuth bool) []string {
	var out []string
	if !isLoopback(cfg.AdminListen) && !adminAuth {
		out = append(out, fmt.Sprintf("the Admin API listens on %s, beyond loopback, without authentication: "+
			"anyone who reaches it controls all traffic (set --admin-token/--admin-tokens-file or --admin-tls-ca)", cfg.AdminListen))
	}
	if !isLoopback(cfg.XDSListen) && cfg.XDSTLSCA == "" {
		out = append(out, fmt.Sprintf("the xDS server listens on %s, beyond loopback, without client certificates: "+
			"anyone who reaches it can read the whole configuration (set --xds-tls-cert/--xds-tls-key/--xds-tls-ca)", cfg.XDSListen))
	}
	return out
}

// isLoopback: a listen address only this machine can reach.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// adminURL turns --admin (host:port or a URL) into a base URL.
func adminURL(addr string) string {
	if strings.HasPrefix(addr, "http://") || strings.HasPrefix(addr, "https://") {
		return strings.TrimSuffix(addr, "/")
	}
	return "http://" + addr
}

// security is what loadSecurity derives from the flags.
type security struct {
	clusterSecret string
	peerClient    *http.Client
	tokens        []admin.Token
	adminTLS      *tls.Config
	xdsTLS        *tls.Config
	localEnvoy    *localIdentity // the local Envoy's xDS TLS, nil without TLS or --envoy
	warnings      []string
}

// loadSecurity reads every credential the flags name, so that a bad file
// stops the start before anything listens.
func loadSecurity(cfg *serveConfig) (*security, error) {
	var sec security
	var err error
	if sec.clusterSecret, err = loadClusterSecret(cfg.ClusterSecret, cfg.ClusterSecretFile, cfg.DataDir, true); err != nil {
		return nil, err
	}
	if sec.peerClient, err = peerClient(cfg, 10*time.Second); err != nil {
		return nil, err
	}
	if sec.tokens, err = loadAdminTokens(cfg.AdminToken, cfg.AdminTokensFile); err != nil {
		return nil, err
	}
	if sec.adminTLS, err = serverTLS("admin-tls", cfg.AdminTLSCert, cfg.AdminTLSKey, cfg.AdminTLSCA); err != nil {
		return nil, err
	}
	if sec.xdsTLS, err = serverTLS("xds-tls", cfg.XDSTLSCert, cfg.XDSTLSKey, cfg.XDSTLSCA); err != nil {
		return nil, err
	}
	if sec.xdsTLS != nil && cfg.Envoy {
		if sec.localEnvoy, err = loadOrCreateLocalIdentity(filepath.Join(cfg.DataDir, "envoy")); err != nil {
			return nil, err
		}
		sec.xdsTLS = sec.localEnvoy.serve(sec.xdsTLS)
	}
	sec.warnings = exposureWarnings(cfg, len(sec.tokens) > 0 || cfg.AdminTLSCA != "")
	sec.warnings = append(sec.warnings, managerExposureWarning(cfg, len(sec.tokens) > 0)...)
	return &sec, nil
}

// xdsGRPCOptions puts TLS (and mTLS) on the xDS gRPC server.
func (sec *security) xdsGRPCOptions() []grpc.ServerOption {
	if sec.xdsTLS == nil {
		return nil
	}
	return []grpc.ServerOption{grpc.Creds(credentials.NewTLS(sec.xdsTLS))}
}

// withScheme makes an address https:// unless it names a scheme already.
func withScheme(addr string) string {
	if strings.HasPrefix(addr, "http://") || strings.HasPrefix(addr, "https://") {
		return addr
	}
	return "https://" + addr
}
