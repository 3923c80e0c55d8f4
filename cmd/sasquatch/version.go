package main

import (
	"fmt"
	"io"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

// version can be set at build time with -ldflags "-X main.version=v1.2.3";
// otherwise the module version and VCS revision of the build info say what
// was built (a `go build` from a clone stamps both).
var version = "dev"

// versionString describes this build: "v1.2.3 (commit 0123456789ab,
// modified, 2026-09-01T00:00:00Z) go1.26.0".
func versionString() string {
	info, _ := debug.ReadBuildInfo()
	return formatVersion(version, info)
}

// formatVersion renders the version from the -ldflags value and the build
// info (nil when unavailable).
func formatVersion(ldflags string, info *debug.BuildInfo) string {
	v := ldflags
	if info == nil {
		return v
	}
	if (v == "" || v == "dev") && info.Main.Version != "" && info.Main.Version != "(devel)" {
		v = info.Main.Version
	}
	var rev, modified, at string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value
		case "vcs.time":
			at = s.Value
		}
	}
	var vcs []string
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		vcs = append(vcs, "commit "+rev)
		if modified == "true" {
			vcs = append(vcs, "modified")
		}
		if at != "" {
			vcs = append(vcs, at)
		}
	}
	if len(vcs) > 0 {
		v += " (" + strings.Join(vcs, ", ") + ")"
	}
	if info.GoVersion != "" {
		v += " " + info.GoVersion
	}
	return v
}

func newVersionCmd(stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, VCS revision and Go version of this build",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintf(stdout, "sasquatch %s\n", versionString())
			return err
		},
	}
}
