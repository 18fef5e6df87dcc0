package main

import (
	"bytes"
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
	admin := fs.String("admin", "127.0.0.1:8001", "Admin API address of a running node")
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
	client := &http.Client{Timeout: 60 * time.Second}
	url := "http://" + *admin + raftstore.PathSnapshot
	var err error
	if verb == "save" {
		err = snapshotSave(client, url, file)
	} else {
		err = snapshotRestore(client, url, file)
	}
	if err != nil {
		fmt.Fprintf(stderr, "switchboard snapshot %s: %v\n", verb, err)
		return 1
	}
	fmt.Fprintf(stdout, "snapshot %s: %s\n", map[string]string{"save": "saved to", "restore": "restored from"}[verb], file)
	return 0
}

func snapshotSave(client *http.Client, url, file string) error {
	res, err := client.Get(url)
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

func snapshotRestore(client *http.Client, url, file string) error {
	body, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	res, err := client.Post(url, "application/json", bytes.NewReader(body))
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
