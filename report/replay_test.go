package report

import (
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sasquatch-sec/sasquatch/detect"
)

// replayNow is the fixed clock of the replay goldens (sas-spec's evaluation
// clock), so remaining lifetimes in Markdown do not drift.
var replayNow = time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)

// replayOptions are the options every replay golden is rendered with.
var replayOptions = Options{Now: replayNow, Version: "1.2.3-test"}

// replayFindings reads testdata/replay.jsonl: synthetic findings (invented
// contoso… accounts, signatures already redacted) covering every kind and
// severity, history and GitHub locations, hostile paths (a backtick,
// <script>, an @mention, link syntax), a finding with 15 locations, one with
// truncated locations and one naming a stored access policy.
func replayFindings(t *testing.T) []Finding {
	t.Helper()
	fs := readJSONL(t, filepath.Join("testdata", "replay.jsonl"))
	if len(fs) == 0 {
		t.Fatal("empty replay corpus")
	}
	return fs
}

// TestReplayAllFormats replays the fixed JSONL of findings through every sink
// into testdata/replay.<format>.golden (go test ./report -run TestReplayAllFormats -update).
func TestReplayAllFormats(t *testing.T) {
	t.Parallel()
	for _, format := range Formats() {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			got := render(t, format, replayOptions, replayFindings(t))
			golden(t, "replay."+format+".golden", got)
		})
	}
}

// TestReplayCorpusCoverage keeps the corpus honest: every kind, every
// severity, history and GitHub locations, hostile paths and a long location
// list are present.
func TestReplayCorpusCoverage(t *testing.T) {
	t.Parallel()
	fs := replayFindings(t)
	kinds := map[detect.Kind]bool{}
	sevs := map[detect.Severity]bool{}
	var history, github, backtick, script, mention, fifteen, policy bool
	for _, f := range fs {
		kinds[f.Kind] = true
		sevs[f.Severity] = true
		if len(f.Locations) >= 15 {
			fifteen = true
		}
		if _, ok := queryParam(f.Redacted, "si"); ok {
			policy = true
		}
		for _, l := range f.Locations {
			history = history || l.Commit != "" && l.Author != "" && l.Date != nil
			github = github || l.Repo != "" && l.Permalink != ""
			backtick = backtick || strings.Contains(l.Path, "`")
			script = script || strings.Contains(l.Path, "<script>")
			mention = mention || strings.Contains(l.Path, "@")
		}
	}
	for _, k := range []detect.Kind{detect.KindAccount, detect.KindService, detect.KindUserDelegation, detect.KindAccountKey} {
		if !kinds[k] {
			t.Errorf("no %s finding", k)
		}
	}
	for s := detect.Info; s <= detect.Critical; s++ {
		if !sevs[s] {
			t.Errorf("no %s finding", s)
		}
	}
	for name, ok := range map[string]bool{
		"history location": history, "GitHub location": github, "path with a backtick": backtick,
		"path with <script>": script, "path with @mention": mention, "15 locations": fifteen, "si": policy,
	} {
		if !ok {
			t.Errorf("corpus lacks a %s", name)
		}
	}
}

// TestReplayNeverLeaksSignature attaches a credential with a synthetic
// signature to every replayed finding (as the collector does, without
// reveal) and checks that no sink writes the signature, its percent-encoded
// form or any 16-character piece of it.
func TestReplayNeverLeaksSignature(t *testing.T) {
	t.Parallel()
	fs := replayFindings(t)
	var secrets []string
	for i := range fs {
		sig := testSig(900 + i)
		if fs[i].Kind == detect.KindAccountKey {
			sig = testKey(900 + i)
		}
		secrets = append(secrets, sig)
		q := strings.Replace(fs[i].Redacted, detect.Redacted, url.QueryEscape(sig), 1)
		fs[i].Credential = detect.Token{
			Kind:      fs[i].Kind,
			Account:   fs[i].Account,
			Signature: detect.NewSecret(sig),
			Query:     detect.NewSecret(q),
			URL:       detect.NewSecret("https://" + fs[i].Host + "/?" + q),
			Redacted:  fs[i].Redacted,
		}
	}
	for _, format := range Formats() {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			out := string(render(t, format, replayOptions, fs))
			for _, s := range secrets {
				for _, form := range []string{s, url.QueryEscape(s), url.QueryEscape(url.QueryEscape(s))} {
					for i := 0; i+16 <= len(form); i++ {
						if piece := form[i : i+16]; strings.Contains(out, piece) {
							t.Fatalf("%s output contains %q, a piece of a signature", format, piece)
						}
					}
				}
			}
			if !strings.Contains(out, detect.Redacted) {
				t.Errorf("%s output has no redacted token", format)
			}
		})
	}
}
