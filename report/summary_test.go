package report

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// TestSummaryRecord: JSONL ends with a typed summary record; JSON becomes
// {"findings","summary"}; an interrupted run says complete: false.
func TestSummaryRecord(t *testing.T) {
	f := Finding{Fingerprint: "00112233445566778899aabbccddeeff", Kind: "account", Locations: []Location{{Path: "a", Line: 1, Column: 1}}}
	sum := RunSummary{Complete: false, Interrupted: true, Findings: 1, Scanned: 3, Skips: map[string]int64{"interrupted": 1}}

	var buf bytes.Buffer
	s := NewJSONL(&buf)
	if err := s.Write(context.Background(), f); err != nil {
		t.Fatal(err)
	}
	s.SetSummary(sum)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], `{"type":"finding","fingerprint":"00112233`) {
		t.Fatalf("jsonl:\n%s", buf.String())
	}
	var rec map[string]any
	if err := json.Unmarshal([]byte(lines[1]), &rec); err != nil {
		t.Fatal(err)
	}
	if rec["type"] != "summary" || rec["complete"] != false || rec["interrupted"] != true || rec["scanned"] != float64(3) {
		t.Errorf("summary record %v", rec)
	}

	buf.Reset()
	j := NewJSON(&buf)
	_ = j.Write(context.Background(), f)
	j.SetSummary(sum)
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	var obj struct {
		Findings []Finding `json:"findings"`
		Summary  RunSummary
	}
	if err := json.Unmarshal(buf.Bytes(), &obj); err != nil || len(obj.Findings) != 1 || obj.Summary.Complete || !obj.Summary.Interrupted {
		t.Errorf("json %v:\n%s", err, buf.String())
	}
}
