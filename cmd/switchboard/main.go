// Command switchboard is a Kong-compatible Admin API in front of an Envoy
// data plane: `switchboard serve` runs the Admin API, the xDS server and,
// with --envoy, a local Envoy.
package main

import (
	"fmt"
	"io"
	"os"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "serve":
		return runServe(args[1:], stderr)
	case "envoy-bootstrap":
		return runEnvoyBootstrap(args[1:], stdout, stderr)
	case "snapshot":
		return runSnapshot(args[1:], stdout, stderr)
	case "config":
		return runConfig(args[1:], stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintf(stdout, "switchboard %s\n", version)
		return 0
	case "help", "-h", "--help":
		usage(stdout)
		return 0
	default:
		fmt.Fprintf(stderr, "switchboard: unknown command %q\n\n", args[0])
		usage(stderr)
		return 2
	}
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage: switchboard <command> [flags]

commands:
  serve             run the Admin API (:8001) and the xDS server (:18000); --envoy also runs a local Envoy
  envoy-bootstrap   print a bootstrap YAML for an external Envoy that connects to this control plane
  snapshot          save FILE | restore FILE: back up or restore the whole state of a running node
  config            validate|diff|apply FILE, dump: a declarative kong.yaml against a running node
  version           print the version

Run 'switchboard <command> -h' for the flags of a command.
`)
}
