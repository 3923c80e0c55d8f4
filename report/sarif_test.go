package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sasquatch-sec/sasquatch/detect"
)

// The SARIF output is validated against the official OASIS SARIF 2.1.0 JSON
// schema (errata01), testdata/sarif-schema-2.1.0.json. That file is the
// schema go-sarif v3.3.1 ships as a Go string (pkg/report/v210/sarif/schema.go
// in the module cache), copied verbatim. go-sarif validates with
// github.com/xeipuuv/gojsonschema, which go.mod does not require, so the test
// uses the small draft-04 validator below: it implements every keyword the
// SARIF schema uses and fails on any other, so a keyword it does not know
// cannot be skipped silently. TestSchemaValidatorRejects checks that it
// rejects documents that break the schema.

func loadSARIFSchema(t *testing.T) *schemaValidator {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "sarif-schema-2.1.0.json"))
	if err != nil {
		t.Fatal(err)
	}
	var root any
	if err := json.Unmarshal(data, &root); err != nil {
		t.Fatal(err)
	}
	return &schemaValidator{root: root.(map[string]any)}
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
	v := loadSARIFSchema(t)
	for name, fs := range map[string][]Finding{
		"replay": replayFindings(t),
		"corpus": collect(corpus(), CollectorOptions{}),
		"reveal": collect(corpus(), CollectorOptions{Reveal: true}),
		"empty":  nil,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			out := render(t, "sarif", replayOptions, fs)
			if errs := v.validate(decodeJSON(t, out)); len(errs) > 0 {
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
				RuleID              string            `json:"ruleId"`
				RuleIndex           int               `json:"ruleIndex"`
				Level               string            `json:"level"`
				Message             map[string]string `json:"message"`
				PartialFingerprints map[string]string `json:"partialFingerprints"`
				Properties          map[string]any    `json:"properties"`
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
		if r.Message["text"] == "" {
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
	if got := rs[0].Locations[0].PhysicalLocation.ArtifactLocation.URI; got != "src/a%20b/%C3%BC%3F%23%25.txt" {
		t.Errorf("uri = %q", got)
	}
	if u, err := url.Parse(rs[0].Locations[0].PhysicalLocation.ArtifactLocation.URI); err != nil || u.Scheme != "" || u.Path != "src/a b/ü?#%.txt" {
		t.Errorf("uri does not decode to the path: %v %v", u, err)
	}
	if rs[0].Locations[0].Properties == nil || rs[0].Locations[0].Properties.Path != f.Locations[0].Path {
		t.Error("encoded uri without the verbatim path in properties")
	}
	if got := rs[1].Locations[0].PhysicalLocation.ArtifactLocation.URI; got != "c%3A/x" {
		t.Errorf("a colon in the first segment must not read as a scheme: %q", got)
	}
	if r := rs[0].Locations[0].PhysicalLocation.Region; r == nil || r.StartLine != 3 || r.StartColumn != 7 {
		t.Errorf("region = %+v", r)
	}
	p := rs[1].Properties
	if p.Commit != f.Locations[1].Commit || p.Author == "" || p.Date != "2022-03-01T10:00:00Z" || p.Repo != "contoso-org/r" || p.Permalink == "" || p.AtTip == nil || *p.AtTip {
		t.Errorf("history properties = %+v", p)
	}
	if rs[2].Locations[0].PhysicalLocation != nil || len(rs[2].Locations[0].LogicalLocations) != 1 {
		t.Errorf("commit message location = %+v", rs[2].Locations[0])
	}
	if rs[0].PartialFingerprints[sarifFingerprintKey] != f.Fingerprint || rs[0].PartialFingerprints[sarifLocationKey] == rs[1].PartialFingerprints[sarifLocationKey] {
		t.Errorf("partialFingerprints: %v %v", rs[0].PartialFingerprints, rs[1].PartialFingerprints)
	}
	if msg := rs[0].Message.Text; strings.Contains(msg, "[x](") || !strings.Contains(msg, `\[x\]`) {
		t.Errorf("message does not escape link syntax: %q", msg)
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
	if len(rules) != 1 || rules[0].DefaultConfiguration.Level != "error" || rules[0].Properties.SecuritySeverity != "8.0" {
		t.Errorf("rules = %+v", rules)
	}
}

// TestSchemaValidatorRejects: the validator is only worth its pass if it
// fails documents that break the schema.
func TestSchemaValidatorRejects(t *testing.T) {
	t.Parallel()
	v := loadSARIFSchema(t)
	good := render(t, "sarif", replayOptions, replayFindings(t))
	if errs := v.validate(decodeJSON(t, good)); len(errs) > 0 {
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
		"bad uri": func(m map[string]any) { m["$schema"] = "not a uri" },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			doc := decodeJSON(t, good).(map[string]any)
			mutate(doc)
			if errs := v.validate(doc); len(errs) == 0 {
				t.Errorf("validator accepted a document with %s", name)
			}
		})
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

// schemaValidator validates JSON values decoded with UseNumber against a
// JSON Schema draft-04 document, for the keywords the SARIF 2.1.0 schema
// uses: $ref (local), type, enum, properties, additionalProperties,
// required, items, minItems, uniqueItems, minimum, maximum, pattern, format
// (uri, uri-reference, date-time), anyOf, oneOf. Annotations (description,
// default, title, id, $schema) are ignored; any other keyword is an error.
type schemaValidator struct {
	root     map[string]any
	patterns map[string]*regexp.Regexp
}

func (v *schemaValidator) validate(doc any) []string {
	var errs []string
	v.check(v.root, doc, "$", &errs)
	return errs
}

func (v *schemaValidator) check(schema map[string]any, val any, path string, errs *[]string) {
	fail := func(format string, args ...any) {
		*errs = append(*errs, path+": "+fmt.Sprintf(format, args...))
	}
	if ref, ok := schema["$ref"].(string); ok {
		target, err := v.resolve(ref)
		if err != nil {
			fail("%v", err)
			return
		}
		v.check(target, val, path, errs)
		return
	}
	for kw, arg := range schema {
		switch kw {
		case "description", "default", "title", "id", "$schema", "definitions":
		case "type":
			var types []string
			switch a := arg.(type) {
			case string:
				types = []string{a}
			case []any:
				for _, x := range a {
					types = append(types, x.(string))
				}
			}
			if !slices.ContainsFunc(types, func(ty string) bool { return hasType(val, ty) }) {
				fail("type %T is not %v", val, types)
			}
		case "enum":
			if !slices.ContainsFunc(arg.([]any), func(e any) bool { return jsonEqual(e, val) }) {
				fail("%v is not one of %v", val, arg)
			}
		case "properties", "additionalProperties", "required":
			obj, ok := val.(map[string]any)
			if !ok {
				continue
			}
			props, _ := schema["properties"].(map[string]any)
			switch kw {
			case "properties":
				for name, sub := range props {
					if x, ok := obj[name]; ok {
						v.check(sub.(map[string]any), x, path+"."+name, errs)
					}
				}
			case "additionalProperties":
				for name, x := range obj {
					if _, ok := props[name]; ok {
						continue
					}
					switch a := arg.(type) {
					case bool:
						if !a {
							fail("property %q is not allowed", name)
						}
					case map[string]any:
						v.check(a, x, path+"."+name, errs)
					}
				}
			case "required":
				for _, name := range arg.([]any) {
					if _, ok := obj[name.(string)]; !ok {
						fail("required property %q is missing", name)
					}
				}
			}
		case "items", "minItems", "uniqueItems":
			arr, ok := val.([]any)
			if !ok {
				continue
			}
			switch kw {
			case "items":
				for i, x := range arr {
					v.check(arg.(map[string]any), x, fmt.Sprintf("%s[%d]", path, i), errs)
				}
			case "minItems":
				if n, _ := arg.(float64); len(arr) < int(n) {
					fail("%d items, fewer than %v", len(arr), n)
				}
			case "uniqueItems":
				if arg.(bool) {
					for i := range arr {
						for j := i + 1; j < len(arr); j++ {
							if jsonEqual(arr[i], arr[j]) {
								fail("items %d and %d are equal", i, j)
							}
						}
					}
				}
			}
		case "minimum", "maximum":
			n, ok := val.(json.Number)
			if !ok {
				continue
			}
			x, _ := n.Float64()
			lim := arg.(float64)
			if kw == "minimum" && x < lim || kw == "maximum" && x > lim {
				fail("%v is out of range (%s %v)", n, kw, lim)
			}
		case "pattern":
			s, ok := val.(string)
			if !ok {
				continue
			}
			if v.patterns == nil {
				v.patterns = map[string]*regexp.Regexp{}
			}
			re := v.patterns[arg.(string)]
			if re == nil {
				re = regexp.MustCompile(arg.(string))
				v.patterns[arg.(string)] = re
			}
			if !re.MatchString(s) {
				fail("%q does not match %s", s, re)
			}
		case "format":
			s, ok := val.(string)
			if !ok {
				continue
			}
			switch arg {
			case "uri":
				if u, err := url.Parse(s); err != nil || !u.IsAbs() {
					fail("%q is not an absolute URI", s)
				}
			case "uri-reference":
				if _, err := url.Parse(s); err != nil {
					fail("%q is not a URI reference: %v", s, err)
				}
			case "date-time":
				if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
					fail("%q is not a date-time", s)
				}
			default:
				fail("unknown format %q", arg)
			}
		case "anyOf", "oneOf":
			n := 0
			for _, sub := range arg.([]any) {
				var sube []string
				v.check(sub.(map[string]any), val, path, &sube)
				if len(sube) == 0 {
					n++
				}
			}
			if n == 0 || kw == "oneOf" && n != 1 {
				fail("%d of the %s alternatives match", n, kw)
			}
		default:
			fail("schema keyword %q is not implemented by the test validator", kw)
		}
	}
}

func (v *schemaValidator) resolve(ref string) (map[string]any, error) {
	p, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil, fmt.Errorf("non-local $ref %q", ref)
	}
	var cur any = v.root
	for _, part := range strings.Split(p, "/") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("bad $ref %q", ref)
		}
		cur = m[part]
	}
	m, ok := cur.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("unresolved $ref %q", ref)
	}
	return m, nil
}

func hasType(val any, ty string) bool {
	switch ty {
	case "object":
		_, ok := val.(map[string]any)
		return ok
	case "array":
		_, ok := val.([]any)
		return ok
	case "string":
		_, ok := val.(string)
		return ok
	case "boolean":
		_, ok := val.(bool)
		return ok
	case "null":
		return val == nil
	case "number":
		_, ok := val.(json.Number)
		return ok
	case "integer":
		n, ok := val.(json.Number)
		if !ok {
			return false
		}
		_, err := n.Int64()
		return err == nil
	}
	return false
}

// jsonEqual compares two decoded JSON values (numbers by value, whether
// they came from the schema as float64 or from the document as json.Number).
func jsonEqual(a, b any) bool {
	norm := func(x any) any {
		if n, ok := x.(json.Number); ok {
			f, _ := n.Float64()
			return f
		}
		return x
	}
	a, b = norm(a), norm(b)
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, xv := range x {
			yv, ok := y[k]
			if !ok || !jsonEqual(xv, yv) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !jsonEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	}
	return a == b
}
