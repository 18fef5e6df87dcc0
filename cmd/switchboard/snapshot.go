package main

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/switchboard-gw/switchboard/store/raftstore"
)

// runSnapshot saves or restores a backup of the whole store through a
// running node's Admin API.
func runSnapshot(args []string, stdout, stderr io.Writer) int {
	if len(args) < 1 || (args[0] != "save" && args[0] != "restore") {
		fmt.Fprintln(stderr, "usage: switchboard snapshot save|restore FILE [--admin ADDR]")
		return 2
	}
	verb := args[0]
	fs := flag.NewFlagSet("snapshot "+verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	admin := fs.String("admin", "127.0.0.1:8001", "Admin API address of a running node (host:port, or https://host:port)")
	dataDir := fs.String("data-dir", "./switchboard-data", "the node's data directory, whose cluster-secret file authenticates the CLI")
	secret := fs.String("cluster-secret", "", "the cluster secret (default: read from --cluster-secret-file); prefer SWITCHBOARD_CLUSTER_SECRET")
	secretFile := fs.String("cluster-secret-file", "", "file holding the cluster secret (default: DATA_DIR/cluster-secret)")
	caFile := fs.String("tls-ca", "", "CA that signed the node's Admin API certificate, for an https:// --admin")
	certFile := fs.String("tls-cert", "", "client certificate, for a node whose Admin API requires one (--admin-tls-ca)")
	keyFile := fs.String("tls-key", "", "private key of --tls-cert")
	fs.Usage = usageWithEnv(fs, "switchboard snapshot "+verb+" FILE [flags]")
	// The file comes first, as in 'consul snapshot save FILE'; flags may follow.
	rest := args[1:]
	var file string
	if len(rest) > 0 && rest[0] != "" && rest[0][0] != '-' {
		file, rest = rest[0], rest[1:]
	}
	if err := parseWithEnv(fs, rest); err != nil {
		return 2
	}
	if file == "" && fs.NArg() == 1 {
		file = fs.Arg(0)
	}
	if file == "" {
		fmt.Fprintln(stderr, "switchboard snapshot: FILE is required")
		return 2
	}
	key, err := loadClusterSecret(*secret, *secretFile, *dataDir, false)
	if err == nil {
		var client *http.Client
		if client, err = cliClient(*caFile, *certFile, *keyFile); err == nil {
			url := adminURL(*admin) + raftstore.PathSnapshot
			c := &secretClient{client: client, secret: key}
			if verb == "save" {
				err = snapshotSave(c, url, file)
			} else {
				err = snapshotRestore(c, url, file)
			}
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "switchboard snapshot %s: %v\n", verb, err)
		return 1
	}
	fmt.Fprintf(stdout, "snapshot %s: %s\n", map[string]string{"save": "saved to", "restore": "restored from"}[verb], file)
	return 0
}

// secretClient sends the cluster secret the internal endpoints require.
type secretClient struct {
	client *http.Client
	secret string
}

func (c *secretClient) do(method, url string, body io.Reader) (*http.Response, error) {
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set(raftstore.SecretHeader, c.secret)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return c.client.Do(req)
}

// cliClient trusts caFile (if any) besides the system roots and presents
// the client certificate (if any).
func cliClient(caFile, certFile, keyFile string) (*http.Client, error) {
	c := &http.Client{Timeout: 60 * time.Second}
	if caFile == "" && certFile == "" {
		return c, nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile != "" {
		pool, err := loadCertPool(caFile)
		if err != nil {
			return nil, fmt.Errorf("--tls-ca: %w", err)
		}
		tc.RootCAs = pool
	}
	if certFile != "" {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("--tls-cert/--tls-key: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	c.Transport = &http.Transport{TLSClientConfig: tc}
	return c, nil
}

func snapshotSave(client *secretClient, url, file string) error {
	res, err := client.do(http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", res.Status, bytes.TrimSpace(body))
	}
	if !json.Valid(body) {
		return fmt.Errorf("the node answered something that is not a snapshot")
	}
	tmp := file + ".tmp"
	if err := os.WriteFile(tmp, body, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, file)
}

func snapshotRestore(client *secretClient, url, file string) error {
	body, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	res, err := client.do(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", res.Status, bytes.TrimSpace(out))
	}
	return nil
}
