package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// runConfig is `switchboard config validate|diff|apply FILE` and
// `switchboard config dump`: a declarative kong.yaml against a running
// node's Admin API (POST /config, its dry_run=1, GET /config).
func runConfig(args []string, stdout, stderr io.Writer) int {
	verbs := map[string]bool{"validate": true, "diff": true, "apply": true, "dump": true}
	if len(args) < 1 || !verbs[args[0]] {
		fmt.Fprintln(stderr, "usage: switchboard config validate|diff|apply FILE | dump [--admin-url URL] [--admin-token TOKEN]")
		return 2
	}
	verb := args[0]
	fs := flag.NewFlagSet("config "+verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("admin-url", "http://127.0.0.1:8001", "Admin API of a running node")
	token := fs.String("admin-token", os.Getenv("SWITCHBOARD_ADMIN_TOKEN"), "Admin API token (Kong-Admin-Token); default $SWITCHBOARD_ADMIN_TOKEN")
	rest := args[1:]
	var file string
	if len(rest) > 0 && rest[0] != "" && rest[0][0] != '-' {
		file, rest = rest[0], rest[1:]
	}
	if err := fs.Parse(rest); err != nil {
		return 2
	}
	if file == "" && fs.NArg() == 1 {
		file = fs.Arg(0)
	}
	if (verb == "dump") != (file == "") {
		fmt.Fprintf(stderr, "switchboard config %s: %s\n", verb, map[bool]string{true: "takes no FILE", false: "FILE is required"}[verb == "dump"])
		return 2
	}
	c := &configClient{base: adminURL(*url), token: *token, http: &http.Client{Timeout: 5 * time.Minute}}
	code, err := c.run(verb, file, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "switchboard config %s: %v\n", verb, err)
	}
	return code
}

type configClient struct {
	base, token string
	http        *http.Client
}

func (c *configClient) run(verb, file string, stdout io.Writer) (int, error) {
	if verb == "dump" {
		var out struct {
			Config string `json:"config"`
		}
		if err := c.call(http.MethodGet, "/config", "", nil, http.StatusOK, &out); err != nil {
			return 1, err
		}
		fmt.Fprint(stdout, out.Config)
		return 0, nil
	}
	body, err := os.ReadFile(file)
	if err != nil {
		return 1, err
	}
	ctype := "application/json"
	if ext := strings.ToLower(filepath.Ext(file)); ext == ".yaml" || ext == ".yml" {
		ctype = "application/yaml"
	}
	if verb == "apply" {
		if err := c.call(http.MethodPost, "/config", ctype, body, http.StatusCreated, nil); err != nil {
			return 1, err
		}
		fmt.Fprintf(stdout, "applied %s\n", file)
		return 0, nil
	}
	var out struct {
		Changes []struct{ Op, Entity, ID string } `json:"changes"`
	}
	if err := c.call(http.MethodPost, "/config?dry_run=1", ctype, body, http.StatusOK, &out); err != nil {
		return 1, err
	}
	if verb == "validate" {
		fmt.Fprintf(stdout, "%s is valid\n", file)
		return 0, nil
	}
	for _, ch := range out.Changes {
		fmt.Fprintf(stdout, "%s %s %s\n", ch.Op, ch.Entity, ch.ID)
	}
	fmt.Fprintf(stdout, "%d changes\n", len(out.Changes))
	if len(out.Changes) > 0 {
		return 2, nil // like diff(1): 2 = differences found
	}
	return 0, nil
}

// call sends one request; an unexpected status is an error carrying the
// Admin API's body (Kong's code-14 fields tree for an invalid file).
func (c *configClient) call(method, path, ctype string, body []byte, want int, out any) error {
	req, err := http.NewRequest(method, c.base+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if c.token != "" {
		req.Header.Set("Kong-Admin-Token", c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(raw))
	}
	if out != nil {
		return json.Unmarshal(raw, out)
	}
	return nil
}

// loadDeclarative applies --declarative-config before the Admin API and
// xDS open, so that no Envoy sees the state without the file. The file goes
// through the same validation as POST /config; a file the store already
// holds writes nothing.
func loadDeclarative(api interface {
	ApplyDeclarative(raw []byte) (int, error)
}, file string, log interface{ Info(string, ...any) }) error {
	raw, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("--declarative-config: %w", err)
	}
	n, err := api.ApplyDeclarative(raw)
	if err != nil {
		return fmt.Errorf("--declarative-config %s: %w", file, err)
	}
	log.Info("declarative config loaded", "file", file, "changed_entities", n)
	return nil
}
