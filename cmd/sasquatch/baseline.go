package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
)

// readBaseline reads the fingerprints of known findings from path: the
// JSONL (or JSON array) output of an earlier run, or fingerprints one a
// line (32 hex digits; blank lines and # comments are ignored). Records
// that carry no fingerprint (a summary record) are ignored.
func readBaseline(path string) (map[string]bool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	known := map[string]bool{}
	if t := strings.TrimSpace(string(b)); strings.HasPrefix(t, "{") {
		// A JSON report with its summary: {"findings": [...], "summary": {...}}.
		var obj struct {
			Findings []struct {
				Fingerprint string `json:"fingerprint"`
			} `json:"findings"`
		}
		if json.Unmarshal([]byte(t), &obj) == nil && obj.Findings != nil {
			for _, f := range obj.Findings {
				if f.Fingerprint != "" {
					known[f.Fingerprint] = true
				}
			}
			return known, nil
		}
	}
	if t := strings.TrimSpace(string(b)); strings.HasPrefix(t, "[") {
		var fs []struct {
			Fingerprint string `json:"fingerprint"`
		}
		if err := json.Unmarshal([]byte(t), &fs); err != nil {
			return nil, fmt.Errorf("%s: not a JSON array of findings: %v", path, err)
		}
		for _, f := range fs {
			if f.Fingerprint != "" {
				known[f.Fingerprint] = true
			}
		}
		return known, nil
	}
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	sc.Buffer(nil, 64<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "{"):
			var f struct {
				Fingerprint string `json:"fingerprint"`
			}
			if err := json.Unmarshal([]byte(line), &f); err != nil {
				return nil, fmt.Errorf("%s:%d: not a JSONL finding: %v", path, n, err)
			}
			if f.Fingerprint != "" {
				known[f.Fingerprint] = true
			}
		default:
			fp := strings.Fields(line)[0]
			if !isFingerprint(fp) {
				return nil, fmt.Errorf("%s:%d: want a JSONL finding or a fingerprint (32 hex digits)", path, n)
			}
			known[fp] = true
		}
	}
	return known, sc.Err()
}

func isFingerprint(s string) bool {
	return len(s) == 32 && strings.Trim(s, "0123456789abcdef") == ""
}
