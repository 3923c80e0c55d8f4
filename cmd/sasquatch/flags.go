package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// sizeFlag is a byte count given as a number with an optional unit
// (KiB, MiB, GiB, TiB, or KB/MB/GB as powers of 1000). It displays as
// written ("256MiB"), in --help too.
type sizeFlag struct {
	n    int64
	text string // as written; "" shows n in the largest exact binary unit
}

func (s *sizeFlag) String() string {
	if s.text != "" {
		return s.text
	}
	return formatSize(s.n)
}

func (s *sizeFlag) Type() string { return "SIZE" }

func (s *sizeFlag) Set(v string) error {
	n, err := parseSize(v)
	if err != nil {
		return err
	}
	s.n, s.text = n, strings.TrimSpace(v)
	return nil
}

// formatSize writes n in the largest binary unit that divides it (64MiB,
// 8GiB), else in bytes.
func formatSize(n int64) string {
	units := []struct {
		suffix string
		mult   int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}}
	for _, u := range units {
		if n != 0 && n%u.mult == 0 {
			return strconv.FormatInt(n/u.mult, 10) + u.suffix
		}
	}
	return strconv.FormatInt(n, 10)
}

func parseSize(v string) (int64, error) {
	t := strings.TrimSpace(v)
	units := []struct {
		suffix string
		mult   int64
	}{
		{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
		{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
		{"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"B", 1},
	}
	mult := int64(1)
	for _, u := range units {
		if strings.HasSuffix(strings.ToUpper(t), strings.ToUpper(u.suffix)) && len(t) > len(u.suffix) {
			mult = u.mult
			t = strings.TrimSpace(t[:len(t)-len(u.suffix)])
			break
		}
	}
	n, err := strconv.ParseFloat(t, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("invalid size %q (want e.g. 512KiB, 64MiB, 2GiB)", v)
	}
	return int64(n * float64(mult)), nil
}

func noColor() bool {
	_, set := os.LookupEnv("NO_COLOR")
	return set || os.Getenv("TERM") == "dumb"
}
