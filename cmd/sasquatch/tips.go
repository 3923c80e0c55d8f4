package main

import (
	"bufio"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/sasquatch-sec/sasquatch/report"
)

// tipSet is the content of a --save-tips / --since-tips file: the commits
// already scanned, per repository key ("github:<id>" for GitHub, where a
// repository keeps its ID across renames; the target as given for git).
// Commits under the empty key apply to every repository (files written
// before keys existed: one SHA per line).
type tipSet map[string][]string

// of returns the commits recorded for key, plus the unkeyed ones.
func (t tipSet) of(key string) []string {
	if len(t) == 0 {
		return nil
	}
	return append(slices.Clone(t[key]), t[""]...)
}

// set records the commits of key, sorted and unique.
func (t tipSet) set(key string, shas []string) {
	shas = slices.Clone(shas)
	slices.Sort(shas)
	t[key] = slices.Compact(shas)
}

// readTips reads a tips file: "SHA [KEY]" per line, # comments.
func readTips(path string) (tipSet, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	tips := tipSet{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		sha := fields[0]
		if len(sha) != 40 || strings.Trim(sha, "0123456789abcdef") != "" {
			return nil, fmt.Errorf("%s:%d: want a 40-hex commit SHA", path, n)
		}
		key := ""
		if len(fields) > 1 {
			key = fields[1]
		}
		tips[key] = append(tips[key], sha)
	}
	return tips, sc.Err()
}

// writeTips writes t atomically (a temporary file renamed into place), so a
// killed run never leaves a truncated tips file that would make the next
// incremental run skip history.
func writeTips(path string, t tipSet) error {
	var b strings.Builder
	b.WriteString("# sasquatch tips: commits already scanned (SHA and repository); pass to --since-tips\n")
	for _, key := range slices.Sorted(maps.Keys(t)) {
		for _, sha := range t[key] {
			if key == "" {
				b.WriteString(sha + "\n")
			} else {
				b.WriteString(sha + " " + key + "\n")
			}
		}
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(b.String()), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// tipValues returns the commits of a ref -> commit map.
func tipValues(m map[string]string) []string {
	return slices.Collect(maps.Values(m))
}

// tipsToSave is what --save-tips writes: this run's tips, unless the
// findings store dropped tokens past its cap. Which repositories held them
// is not known, so every repository then keeps the tips the run started
// from, and the next incremental run looks at what this one dropped.
func tipsToSave(c *common, coll *report.Collector, saved, since tipSet) tipSet {
	if coll.Dropped() == 0 {
		return saved
	}
	c.logger.Warn("findings cap reached: tips not advanced for the next incremental run")
	return since
}
