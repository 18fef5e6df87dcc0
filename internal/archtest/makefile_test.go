package archtest

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestMakefile_HelpListsEveryTarget keeps `make help` complete: every
// .PHONY target has a line there, and the list names no target that does
// not exist.
func TestMakefile_HelpListsEveryTarget(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(moduleRoot(t), "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	phony, help := makeTargets(string(b))
	if len(phony) == 0 || len(help) == 0 {
		t.Fatalf("found %d .PHONY targets and %d help lines; is the Makefile's shape still `.PHONY:` + `help:` echoes?", len(phony), len(help))
	}
	for name := range phony {
		if !help[name] {
			t.Errorf("make target %q is not in `make help`: add an @echo line for it under help: in the Makefile", name)
		}
	}
	for name := range help {
		if !phony[name] {
			t.Errorf("`make help` lists %q, which is no .PHONY target", name)
		}
	}
}

// helpLine is one `@echo '  name  description'` line of the help target.
var helpLine = regexp.MustCompile(`^\t@echo '  ([a-z0-9-]+) `)

// makeTargets returns the .PHONY target names and the names the help
// target lists.
func makeTargets(makefile string) (phony, help map[string]bool) {
	phony, help = map[string]bool{}, map[string]bool{}
	inHelp := false
	for _, line := range strings.Split(makefile, "\n") {
		if rest, ok := strings.CutPrefix(line, ".PHONY:"); ok {
			for _, name := range strings.Fields(rest) {
				phony[name] = true
			}
		}
		switch {
		case line == "help:":
			inHelp = true
		case inHelp && !strings.HasPrefix(line, "\t"):
			inHelp = false
		case inHelp:
			if m := helpLine.FindStringSubmatch(line); m != nil {
				help[m[1]] = true
			}
		}
	}
	return phony, help
}
