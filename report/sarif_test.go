package report

import (
	"bytes"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/owenrumney/go-sarif/v3/pkg/report/v210/sarif"
	"github.com/xeipuuv/gojsonschema"

	"github.com/sasquatch-sec/sasquatch/detect"
)

// The SARIF output is validated twice with github.com/xeipuuv/gojsonschema
// against the official OASIS SARIF 2.1.0 JSON schema (errata01): the log
// sasquatch builds, by go-sarif's own Report.Validate (its embedded schema),
// and the bytes the sink writes, against testdata/sarif-schema-2.1.0.json,
// a verbatim copy of the schema go-sarif v3.3.1 embeds
// (pkg/report/v210/sarif/schema.go in the module cache). Validating the
// bytes covers what go-sarif's Validate cannot see: the text after
// unescapeHTML. TestSARIFSchemaRejects checks that the validation is live.

// sarifSchemaValidator returns the compiled testdata schema.
func sarifSchemaValidator(t *testing.T) *gojsonschema.Schema {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "sarif-schema-2.1.0.json"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := gojsonschema.NewSchema(gojsonschema.NewBytesLoader(data))
	if err != nil {
		t.Fatalf("compile the SARIF schema: %v", err)
	}
	return s
}

// schemaErrors validates the JSON text doc against s.
func schemaErrors(t *testing.T, s *gojsonschema.Schema, doc []byte) []string {
	t.Helper()
	res, err := s.Validate(gojsonschema.NewBytesLoader(doc))
	if err != nil {
		t.Fatalf("validate: %v", err)
	}
	var errs []string
	for _, e := range res.Errors() {
		errs = append(errs, e.String())
	}
	return errs
}

func decodeJSON(t *testing.T, b []byte) any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("output is not JSON: %v", err)
	}
	return v
}

func TestSARIFValidatesAgainstSchema(t *testing.T) {
	t.Parallel()
	v := sarifSchemaValidator(t)
	for name, fs := range map[string][]Finding{
		"replay": replayFindings(t),
		"corpus": collect(corpus(), CollectorOptions{}),
		"reveal": collect(corpus(), CollectorOptions{Reveal: true}),
		"empty":  nil,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if err := buildSARIF(fs, replayOptions).Validate(); err != nil {
				t.Fatalf("go-sarif rejects the log: %v", err)
			}
			out := render(t, "sarif", replayOptions, fs)
			if errs := schemaErrors(t, v, out); len(errs) > 0 {
				t.Fatalf("SARIF output does not validate:\n%s", strings.Join(errs, "\n"))
			}
			assertSARIFStructure(t, out, fs)
		})
	}
}

// assertSARIFStructure checks what the schema cannot: the properties the
// SARIF spec requires of a log, run, tool and result, and what sasquatch
// promises (one run, one rule per kind, one result per location, levels,
// fingerprints).
func assertSARIFStructure(t *testing.T, out []byte, fs []Finding) {
	t.Helper()
	var log struct {
		Version string `json:"version"`
		Runs    []struct {
			Tool struct {
				Driver struct {
					Name    string `json:"name"`
					Version string `json:"version"`
					Rules   []struct {
						ID         string            `json:"id"`
						Help       map[string]string `json:"help"`
						Properties map[string]any    `json:"properties"`
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Results []struct {
				RuleID              string                `json:"ruleId"`
				RuleIndex           int                   `json:"ruleIndex"`
				Level               string                `json:"level"`
				Message             struct{ Text string } `json:"message"`
				PartialFingerprints map[string]string     `json:"partialFingerprints"`
				Properties          map[string]any        `json:"properties"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(out, &log); err != nil {
		t.Fatal(err)
	}
	if log.Version != "2.1.0" || len(log.Runs) != 1 {
		t.Fatalf("version %q, %d runs; want 2.1.0 and one run", log.Version, len(log.Runs))
	}
	run := log.Runs[0]
	if run.Tool.Driver.Name != "sasquatch" || run.Tool.Driver.Version != replayOptions.Version {
		t.Errorf("driver %q %q", run.Tool.Driver.Name, run.Tool.Driver.Version)
	}
	kinds := map[detect.Kind]bool{}
	want := 0
	for _, f := range fs {
		kinds[f.Kind] = true
		want += max(len(f.Locations), 1)
	}
	if len(run.Tool.Driver.Rules) != len(kinds) {
		t.Errorf("%d rules for %d kinds", len(run.Tool.Driver.Rules), len(kinds))
	}
	for _, r := range run.Tool.Driver.Rules {
		if !strings.Contains(r.Help["text"], "Set a SAS expiration policy") || r.Help["markdown"] == "" {
			t.Errorf("rule %s help lacks the remediation: %q", r.ID, r.Help["text"])
		}
		if _, ok := r.Properties["security-severity"].(string); !ok {
			t.Errorf("rule %s has no security-severity", r.ID)
		}
	}
	if len(run.Results) != want {
		t.Errorf("%d results, want one per location (%d)", len(run.Results), want)
	}
	levels := map[string]string{"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
	scores := map[string]string{"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "info": "1.0"}
	for i, r := range run.Results {
		if r.RuleIndex >= len(run.Tool.Driver.Rules) || run.Tool.Driver.Rules[r.RuleIndex].ID != r.RuleID {
			t.Errorf("result %d: ruleIndex %d does not name rule %q", i, r.RuleIndex, r.RuleID)
		}
		if r.Message.Text == "" {
			t.Errorf("result %d has no message text", i)
		}
		sev, _ := r.Properties["severity"].(string)
		if r.Level != levels[sev] || r.Properties["security-severity"] != scores[sev] {
			t.Errorf("result %d: severity %q has level %q and security-severity %v", i, sev, r.Level, r.Properties["security-severity"])
		}
		if fp := r.PartialFingerprints[sarifFingerprintKey]; fp == "" || fp != r.Properties["fingerprint"] {
			t.Errorf("result %d: partialFingerprints %v", i, r.PartialFingerprints)
		}
		if r.Properties["remediation"] == "" {
			t.Errorf("result %d has no remediation", i)
		}
	}
}

func TestSARIFLocations(t *testing.T) {
	t.Parallel()
	date := time.Date(2022, 3, 1, 10, 0, 0, 0, time.UTC)
	tip := false
	f := Finding{
		Fingerprint: "00112233445566778899aabbccddeeff", Severity: detect.Medium, Kind: detect.KindService,
		Account: "contosoloc1", Redacted: "sv=2021-08-06&sr=c&sp=rl&se=2027-01-01T00:00:00Z&sig=REDACTED [x](https://evil.example)",
		Locations: []Location{
			{Path: "src/a b/ü?#%.txt", Line: 3, Column: 7},
			{Path: "c:/x", Line: 1, Column: 1, Commit: "89abcdef0123456789abcdef0123456789abcdef", Author: "A <a@example.invalid>", Date: &date, Repo: "contoso-org/r", Permalink: "https://github.com/contoso-org/r/blob/89abcdef0123456789abcdef0123456789abcdef/c:/x#L1", AtTip: &tip},
			{Line: 2, Column: 1, Commit: "89abcdef0123456789abcdef0123456789abcdef", Message: true},
		},
	}
	log := buildSARIF([]Finding{f}, Options{})
	rs := log.Runs[0].Results
	if len(rs) != 3 {
		t.Fatalf("%d results, want 3", len(rs))
	}
	uri := func(r *sarif.Result) string {
		if len(r.Locations) != 1 || r.Locations[0].PhysicalLocation == nil || r.Locations[0].PhysicalLocation.ArtifactLocation == nil {
			t.Fatalf("result without a physical location: %+v", r.Locations)
		}
		a := r.Locations[0].PhysicalLocation.ArtifactLocation
		if a.URIBaseID == nil || *a.URIBaseID != "%SRCROOT%" {
			t.Errorf("uriBaseId = %v", a.URIBaseID)
		}
		return *a.URI
	}
	if got := uri(rs[0]); got != "src/a%20b/%C3%BC%3F%23%25.txt" {
		t.Errorf("uri = %q", got)
	}
	if u, err := url.Parse(uri(rs[0])); err != nil || u.Scheme != "" || u.Path != "src/a b/ü?#%.txt" {
		t.Errorf("uri does not decode to the path: %v %v", u, err)
	}
	if p := rs[0].Locations[0].Properties; p == nil || p.Properties["path"] != f.Locations[0].Path {
		t.Error("encoded uri without the verbatim path in properties")
	}
	if got := uri(rs[1]); got != "c%3A/x" {
		t.Errorf("a colon in the first segment must not read as a scheme: %q", got)
	}
	if r := rs[0].Locations[0].PhysicalLocation.Region; r == nil || r.StartLine == nil || *r.StartLine != 3 || r.StartColumn == nil || *r.StartColumn != 7 {
		t.Errorf("region = %+v", r)
	}
	p := rs[1].Properties.Properties
	if p["commit"] != f.Locations[1].Commit || p["author"] == nil || p["date"] != "2022-03-01T10:00:00Z" || p["repo"] != "contoso-org/r" || p["permalink"] == nil || p["atTip"] != false {
		t.Errorf("history properties = %+v", p)
	}
	if _, ok := rs[0].Properties.Properties["atTip"]; ok {
		t.Errorf("atTip set without history: %+v", rs[0].Properties.Properties)
	}
	if l := rs[2].Locations[0]; l.PhysicalLocation != nil || len(l.LogicalLocations) != 1 || *l.LogicalLocations[0].FullyQualifiedName != f.Locations[2].Commit {
		t.Errorf("commit message location = %+v", l)
	}
	if rs[0].PartialFingerprints[sarifFingerprintKey] != f.Fingerprint || rs[0].PartialFingerprints[sarifLocationKey] == rs[1].PartialFingerprints[sarifLocationKey] {
		t.Errorf("partialFingerprints: %v %v", rs[0].PartialFingerprints, rs[1].PartialFingerprints)
	}
	if msg := *rs[0].Message.Text; strings.Contains(msg, "[x](") || !strings.Contains(msg, `\[x\]`) {
		t.Errorf("message does not escape link syntax: %q", msg)
	}
	for i, r := range rs {
		if r.RuleIndex != 0 || *r.RuleID != "azure-storage-service-sas" {
			t.Errorf("result %d: rule %d %q", i, r.RuleIndex, *r.RuleID)
		}
	}
}

func TestSARIFLevels(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		sev          detect.Severity
		level, score string
	}{
		{detect.Critical, "error", "9.5"},
		{detect.High, "error", "8.0"},
		{detect.Medium, "warning", "5.5"},
		{detect.Low, "note", "3.0"},
		{detect.Info, "note", "1.0"},
		{detect.Severity(9), "error", "9.5"},
		{detect.Severity(-1), "note", "1.0"},
	} {
		if l, s := sarifLevel(tc.sev); l != tc.level || s != tc.score {
			t.Errorf("sarifLevel(%v) = %q, %q; want %q, %q", tc.sev, l, s, tc.level, tc.score)
		}
	}
	// A rule takes its most severe result's level.
	log := buildSARIF([]Finding{
		{Kind: detect.KindService, Severity: detect.Low, Locations: []Location{{Path: "a", Line: 1}}},
		{Kind: detect.KindService, Severity: detect.High, Locations: []Location{{Path: "b", Line: 1}}},
	}, Options{})
	rules := log.Runs[0].Tool.Driver.Rules
	if len(rules) != 1 || rules[0].DefaultConfiguration.Level != "error" || rules[0].Properties.Properties["security-severity"] != "8.0" {
		t.Errorf("rules = %+v", rules)
	}
}

// TestSARIFSchemaRejects: the schema validation is only worth its pass if
// it fails documents that break the schema.
func TestSARIFSchemaRejects(t *testing.T) {
	t.Parallel()
	v := sarifSchemaValidator(t)
	good := render(t, "sarif", replayOptions, replayFindings(t))
	if errs := schemaErrors(t, v, good); len(errs) > 0 {
		t.Fatalf("good document rejected: %v", errs)
	}
	for name, mutate := range map[string]func(m map[string]any){
		"no version":      func(m map[string]any) { delete(m, "version") },
		"wrong version":   func(m map[string]any) { m["version"] = "2.0.0" },
		"unknown top key": func(m map[string]any) { m["extra"] = true },
		"no tool":         func(m map[string]any) { delete(run(m), "tool") },
		"bad level":       func(m map[string]any) { result(m)["level"] = "fatal" },
		"startLine 0": func(m map[string]any) {
			result(m)["locations"].([]any)[0].(map[string]any)["physicalLocation"].(map[string]any)["region"].(map[string]any)["startLine"] = json.Number("0")
		},
		"message without text": func(m map[string]any) { result(m)["message"] = map[string]any{} },
		"fingerprint not string": func(m map[string]any) {
			result(m)["partialFingerprints"].(map[string]any)["x"] = json.Number("1")
		},
		"duplicate rules": func(m map[string]any) {
			d := run(m)["tool"].(map[string]any)["driver"].(map[string]any)
			rules := d["rules"].([]any)
			d["rules"] = append(rules, rules[0])
		},
		"bad uri":     func(m map[string]any) { m["$schema"] = "not a uri" },
		"rank -2":     func(m map[string]any) { result(m)["rank"] = json.Number("-2") },
		"null arrays": func(m map[string]any) { result(m)["codeFlows"] = nil },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			doc := decodeJSON(t, good).(map[string]any)
			mutate(doc)
			b, err := json.Marshal(doc)
			if err != nil {
				t.Fatal(err)
			}
			if errs := schemaErrors(t, v, b); len(errs) == 0 {
				t.Errorf("validator accepted a document with %s", name)
			}
		})
	}
}

// TestSARIFUnescapesHTML: the written text keeps '&', '<' and '>' as they
// are (tokens stay greppable) and still decodes to the same values, even
// when a value holds the text of an escape sequence.
func TestSARIFUnescapesHTML(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		`"a\u0026b\u003cc\u003ed"`: `"a&b<c>d"`,
		`"\\u0026"`:                `"\\u0026"`,
		`"\\\u0026"`:               `"\\&"`,
		`"\u00e9\n\""`:             `"\u00e9\n\""`,
		`"x\`:                      `"x\`,
		`"\u00`:                    `"\u00`,
	} {
		if got := string(unescapeHTML([]byte(in))); got != want {
			t.Errorf("unescapeHTML(%s) = %s, want %s", in, got, want)
		}
	}
	redacted := `sv=2021-08-06&sr=c&sig=REDACTED <b> \u0026 \`
	f := Finding{Fingerprint: "00", Severity: detect.High, Kind: detect.KindService, Redacted: redacted,
		Token: "sv=2021-08-06&sr=c&sig=abc%3D", Locations: []Location{{Path: "a&b.txt", Line: 1}}}
	out := render(t, "sarif", Options{}, []Finding{f})
	if bytes.Contains(out, []byte(`\u0026`+"sr=")) || !bytes.Contains(out, []byte(`"token": "sv=2021-08-06&sr=c&sig=abc%3D"`)) {
		t.Errorf("HTML characters are escaped:\n%s", out)
	}
	var log struct {
		Runs []struct {
			Results []struct {
				Properties map[string]any `json:"properties"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(out, &log); err != nil {
		t.Fatal(err)
	}
	if got := log.Runs[0].Results[0].Properties["redacted"]; got != redacted {
		t.Errorf("redacted = %q, want %q", got, redacted)
	}
}

func run(m map[string]any) map[string]any { return m["runs"].([]any)[0].(map[string]any) }
func result(m map[string]any) map[string]any {
	return run(m)["results"].([]any)[0].(map[string]any)
}

func TestSARIFRuleHelpPerKind(t *testing.T) {
	t.Parallel()
	text, md := ruleHelp(detect.KindService, "desc")
	for _, want := range []string{"Rotate the account key that signed it", "stored access policy", "Set a SAS expiration policy", "Check the storage logs"} {
		if !strings.Contains(text, want) || !strings.Contains(md, want) {
			t.Errorf("service rule help lacks %q:\n%s", want, text)
		}
	}
}

func TestSARIFDeterministic(t *testing.T) {
	t.Parallel()
	fs := replayFindings(t)
	a := render(t, "sarif", replayOptions, fs)
	slices.Reverse(fs)
	b := render(t, "sarif", replayOptions, fs)
	if diff := cmp.Diff(string(a), string(b)); diff != "" {
		t.Errorf("SARIF depends on the order of writes:\n%s", diff)
	}
}
