package report

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sasquatch-sec/sasquatch/detect"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run go test -update): %v", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s mismatch (-want +got); run go test ./report -update if intended:\n%s", name, diff)
	}
}

func collect(occs []occurrence, opts CollectorOptions) []Finding {
	c := NewCollector(opts)
	for _, o := range occs {
		c.Add(o.loc, o.m)
	}
	return c.Findings()
}

func render(t *testing.T, format string, opts Options, fs []Finding) []byte {
	t.Helper()
	var buf bytes.Buffer
	s, err := New(format, &buf, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, f := range fs {
		if err := s.Write(ctx, f); err != nil {
			t.Fatalf("%s write: %v", format, err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatalf("%s close: %v", format, err)
	}
	return buf.Bytes()
}

// readJSONL decodes a JSONL file of findings.
func readJSONL(t *testing.T, path string) []Finding {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s (run go test -update): %v", path, err)
	}
	var out []Finding
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var f Finding
		if err := json.Unmarshal(sc.Bytes(), &f); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, f)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestGoldenJSONL builds the canonical JSONL corpus from hand-built matches.
func TestGoldenJSONL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		reveal bool
	}{
		{"findings.jsonl.golden", false},
		{"findings_reveal.jsonl.golden", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fs := collect(corpus(), CollectorOptions{Reveal: tc.reveal})
			golden(t, tc.name, render(t, "jsonl", Options{}, fs))
		})
	}
}

// TestReplay replays the golden JSONL through every sink (style.md §7): one
// corpus tests every format. JSONL must round-trip byte for byte.
func TestReplay(t *testing.T) {
	t.Parallel()
	for _, src := range []string{"findings", "findings_reveal"} {
		for _, format := range Formats() {
			t.Run(src+"/"+format, func(t *testing.T) {
				t.Parallel()
				in := filepath.Join("testdata", src+".jsonl.golden")
				fs := readJSONL(t, in)
				if len(fs) == 0 {
					t.Fatal("empty corpus")
				}
				got := render(t, format, Options{}, fs)
				if format == "jsonl" {
					want, _ := os.ReadFile(in)
					if diff := cmp.Diff(string(want), string(got)); diff != "" {
						t.Errorf("jsonl does not round-trip (-want +got):\n%s", diff)
					}
					return
				}
				golden(t, src+"."+format+".golden", got)
			})
		}
	}
}

// TestNoSecretUnlessReveal: no sink writes a signature or key unless reveal;
// with reveal, the token is there.
func TestNoSecretUnlessReveal(t *testing.T) {
	t.Parallel()
	occs := corpus()
	secrets := secretsOf(occs)
	for _, format := range Formats() {
		for _, color := range []bool{false, true} {
			t.Run(format, func(t *testing.T) {
				t.Parallel()
				out := string(render(t, format, Options{Color: color}, collect(occs, CollectorOptions{})))
				for _, s := range secrets {
					if strings.Contains(out, s) {
						t.Errorf("%s output (color=%v) contains a secret without reveal", format, color)
					}
				}
				if !strings.Contains(out, detect.Redacted) {
					t.Errorf("%s output has no redacted token", format)
				}
				rev := string(render(t, format, Options{Color: color}, collect(occs, CollectorOptions{Reveal: true})))
				for _, o := range occs {
					q := o.m.Token.Query.Reveal()
					if format == "json" {
						// json escapes nothing in these tokens but check the decoded form anyway.
						b, _ := json.Marshal(q)
						q = strings.Trim(strings.ReplaceAll(string(b), `\u0026`, "&"), `"`)
					}
					if !strings.Contains(rev, q) {
						t.Errorf("%s output with reveal lacks token %q", format, o.m.Token.Redacted)
					}
				}
			})
		}
	}
}

func TestTextColor(t *testing.T) {
	t.Parallel()
	fs := collect(corpus(), CollectorOptions{})
	plain := render(t, "text", Options{}, fs)
	colored := render(t, "text", Options{Color: true}, fs)
	if bytes.Contains(plain, []byte("\x1b[")) {
		t.Error("plain text output contains ANSI escapes")
	}
	if !bytes.Contains(colored, []byte("\x1b[")) {
		t.Error("coloured text output has no ANSI escapes")
	}
}

func TestEmpty(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ format, want string }{
		{"jsonl", ""},
		{"json", "[]\n"},
		{"text", ""},
	} {
		t.Run(tc.format, func(t *testing.T) {
			t.Parallel()
			if got := string(render(t, tc.format, Options{}, nil)); got != tc.want {
				t.Errorf("empty %s = %q, want %q", tc.format, got, tc.want)
			}
		})
	}
}

func TestNewUnknownFormat(t *testing.T) {
	t.Parallel()
	_, err := New("yaml", &bytes.Buffer{}, Options{})
	if err == nil {
		t.Fatal("New(yaml) succeeded")
	}
	for _, f := range []string{"text", "jsonl", "json"} {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("error %q does not list %q", err, f)
		}
	}
	if s, err := New("JSONL", &bytes.Buffer{}, Options{}); err != nil || s == nil {
		t.Errorf("New(JSONL) = %v, %v; want a sink", s, err)
	}
}

func TestWriteAfterClose(t *testing.T) {
	t.Parallel()
	for _, format := range Formats() {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			s, _ := New(format, &bytes.Buffer{}, Options{})
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if err := s.Write(context.Background(), Finding{}); err == nil {
				t.Error("Write after Close succeeded")
			}
		})
	}
}

func TestCanceledContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, format := range Formats() {
		s, _ := New(format, &bytes.Buffer{}, Options{})
		if err := s.Write(ctx, Finding{}); err == nil {
			t.Errorf("%s: Write with a canceled context succeeded", format)
		}
	}
}
