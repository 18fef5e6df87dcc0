package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
)

// envPrefix: every flag can also be set as SWITCHBOARD_<FLAG> in upper snake
// case (--admin-listen → SWITCHBOARD_ADMIN_LISTEN). A flag on the command
// line wins over the environment.
const envPrefix = "SWITCHBOARD_"

// envName returns the environment variable that backs a flag.
func envName(flagName string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// parseWithEnv applies SWITCHBOARD_* variables to fs, then parses args on
// top, so explicit flags override the environment.
func parseWithEnv(fs *flag.FlagSet, args []string) error {
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if err != nil {
			return
		}
		if v, ok := os.LookupEnv(envName(f.Name)); ok {
			if setErr := fs.Set(f.Name, v); setErr != nil {
				err = fmt.Errorf("%s=%q: %w", envName(f.Name), v, setErr)
			}
		}
	})
	if err != nil {
		return err
	}
	return fs.Parse(args)
}

// usageWithEnv prints flag defaults with the environment variable of each.
func usageWithEnv(fs *flag.FlagSet, synopsis string) func() {
	return func() {
		out := fs.Output()
		fmt.Fprintf(out, "usage: %s\n\nflags (each also read from the environment variable shown):\n", synopsis)
		fs.VisitAll(func(f *flag.Flag) {
			def := ""
			if f.DefValue != "" && f.DefValue != "false" {
				def = fmt.Sprintf(" (default %q)", f.DefValue)
			}
			fmt.Fprintf(out, "  --%s  [%s]%s\n      %s\n", f.Name, envName(f.Name), def, f.Usage)
		})
	}
}
