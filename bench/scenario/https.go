package scenario

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/switchboard-gw/switchboard/bench/harness"
	"github.com/switchboard-gw/switchboard/bench/load"
)

// HTTPS rows, in table order: the same route through the plain listener
// and the TLS one.
const (
	HTTPSPlain = "http (:8000)"
	HTTPSTLS   = "https (:8443, TLS 1.3, keep-alive)"

	httpsRoute = "/tls"
	httpsSNI   = "bench.test"
)

// HTTPSRows lists the rows in table order.
var HTTPSRows = []string{HTTPSPlain, HTTPSTLS}

// HTTPSCell is the median-throughput round of one row at one connection
// count, with every round's throughput.
type HTTPSCell struct {
	Row    string
	Conns  int
	Run    load.Result
	Rounds []float64
}

// HandshakeRun is the TLS listener under new connections only: each worker
// dials, completes a full handshake (no session resumption) and closes.
type HandshakeRun struct {
	Workers    int
	Duration   time.Duration
	Handshakes int
	Failed     int
	PerSecond  float64
	P50, P99   time.Duration
	Cipher     string // of the last handshake, e.g. TLS_AES_128_GCM_SHA256
	KeyType    string // of the served certificate
	FirstError string // of the first failed handshake
}

// HTTPSResult is scenario "https": the TLS listener's cost against the
// plain one in the same run, and its handshake rate.
type HTTPSResult struct {
	Cells      []HTTPSCell
	Handshakes HandshakeRun
}

// HTTPS runs the https scenario: the overhead scenario's closed-loop load
// on one route through both listeners of switchboard's Envoy, rounds
// interleaved, then a handshake loop.
func HTTPS(env *Env) (*HTTPSResult, error) {
	sz := env.Sizes
	be, err := harness.StartBackend("https", 1)
	if err != nil {
		return nil, err
	}
	defer be.Close()
	st, err := harness.StartStack(env.Bins, env.WorkDir, harness.StackOptions{Name: "https", Envoy: true})
	if err != nil {
		return nil, err
	}
	defer st.Stop()
	certPEM, keyPEM, err := benchCertificate(httpsSNI)
	if err != nil {
		return nil, err
	}
	for _, w := range []struct {
		path string
		body obj
	}{
		{"/services", obj{"name": "tls", "url": be.URL()}},
		{"/services/tls/routes", obj{"name": "tls", "paths": []string{httpsRoute}, "strip_path": false}},
		{"/certificates", obj{"cert": certPEM, "key": keyPEM, "snis": []string{httpsSNI}}},
	} {
		if _, err := st.Admin.Must("POST", w.path, w.body, 201); err != nil {
			return nil, err
		}
	}
	// The bench's own certificate, trusted by name: the client checks it
	// as a browser would, so a wrong certificate fails the run.
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM([]byte(certPEM))
	tlsCfg := &tls.Config{ServerName: httpsSNI, RootCAs: roots, MinVersion: tls.VersionTLS12}
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: tlsCfg}}
	httpsURL := "https://" + st.ProxyTLSAddr + httpsRoute + "/x"
	if _, err := waitStatus(client, httpsURL, 200, 5*time.Millisecond, 30*time.Second); err != nil {
		return nil, fmt.Errorf("TLS listener: %w", err)
	}
	client.CloseIdleConnections()
	urls := map[string]string{HTTPSPlain: st.ProxyURL(httpsRoute + "/x"), HTTPSTLS: httpsURL}

	runs := map[string][]load.Result{}
	key := func(row string, c int) string { return fmt.Sprintf("%s/%d", row, c) }
	for round := range sz.OverheadRounds {
		for _, conns := range sz.OverheadConns {
			for _, row := range HTTPSRows {
				o := load.Options{Name: row, URL: urls[row], Connections: conns,
					Duration: sz.OverheadWarmup + sz.OverheadDuration, Warmup: sz.OverheadWarmup}
				if row == HTTPSTLS {
					o.TLS = tlsCfg.Clone()
				}
				r := load.Attack(o)
				if r.Failed() > 0 {
					return nil, fmt.Errorf("%s, %d connections: %d of %d requests failed (%v %v)",
						row, conns, r.Failed(), r.Requests, r.Non2xx, r.ConnErrors)
				}
				runs[key(row, conns)] = append(runs[key(row, conns)], r)
				env.logf("  https round %d: %-36s %2d conns: %8.0f req/s p99 %s", round+1, row, conns, r.Throughput, r.Latency.P99)
			}
		}
	}
	res := &HTTPSResult{}
	for _, conns := range sz.OverheadConns {
		for _, row := range HTTPSRows {
			rs := runs[key(row, conns)]
			slices.SortFunc(rs, func(a, b load.Result) int {
				switch {
				case a.Throughput < b.Throughput:
					return -1
				case a.Throughput > b.Throughput:
					return 1
				}
				return 0
			})
			cell := HTTPSCell{Row: row, Conns: conns, Run: rs[len(rs)/2]}
			for _, r := range rs {
				cell.Rounds = append(cell.Rounds, r.Throughput)
			}
			res.Cells = append(res.Cells, cell)
		}
	}
	workers := sz.OverheadConns[0]
	res.Handshakes = handshakeLoop(st.ProxyTLSAddr, tlsCfg, workers, sz.OverheadWarmup, sz.OverheadDuration)
	h := res.Handshakes
	env.logf("  https handshakes: %d workers: %.0f/s p50 %s p99 %s (%d failed, %s, %s)",
		h.Workers, h.PerSecond, h.P50, h.P99, h.Failed, h.Cipher, h.KeyType)
	if h.Handshakes == 0 || h.Failed > 0 {
		return res, fmt.Errorf("handshakes: %d done, %d failed (first: %s)", h.Handshakes, h.Failed, h.FirstError)
	}
	return res, nil
}

// handshakeLoop runs workers that each dial, handshake and close in a
// loop for warmup+d, and counts what started after the warmup and ended
// before the deadline. Bounded by time; every dial has a timeout.
func handshakeLoop(addr string, cfg *tls.Config, workers int, warmup, d time.Duration) HandshakeRun {
	measureFrom := time.Now().Add(warmup)
	deadline := measureFrom.Add(d)
	var mu sync.Mutex
	var lat []time.Duration
	run := HandshakeRun{Workers: workers, Duration: d}
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			dialer := &net.Dialer{Timeout: 5 * time.Second}
			for time.Now().Before(deadline) {
				start := time.Now()
				conn, err := tls.DialWithDialer(dialer, "tcp", addr, cfg.Clone())
				end := time.Now()
				mu.Lock()
				if start.After(measureFrom) && end.Before(deadline) {
					switch {
					case err != nil && run.Failed == 0:
						run.FirstError = err.Error()
						fallthrough
					case err != nil:
						run.Failed++
					default:
						lat = append(lat, end.Sub(start))
					}
				}
				if err == nil {
					cs := conn.ConnectionState()
					run.Cipher = tls.CipherSuiteName(cs.CipherSuite)
					run.KeyType = cs.PeerCertificates[0].PublicKeyAlgorithm.String()
				}
				mu.Unlock()
				if conn != nil {
					_ = conn.Close()
				}
			}
		})
	}
	wg.Wait()
	run.Handshakes = len(lat)
	run.PerSecond = float64(len(lat)) / d.Seconds()
	if len(lat) > 0 {
		slices.Sort(lat)
		run.P50 = lat[len(lat)/2]
		run.P99 = lat[min(len(lat)-1, len(lat)*99/100)]
	}
	return run
}

// benchCertificate is a throw-away self-signed ECDSA P-256 certificate for
// name, as PEM.
func benchCertificate(name string) (certPEM, keyPEM string, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name}, DNSNames: []string{name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return "", "", err
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", "", err
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})), nil
}
