package report

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/sasquatch-sec/sasquatch/detect"
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

// TestPathBytes is issue 10 item 7: a path that is not valid UTF-8 keeps its
// raw bytes in JSON (path_bytes, base64); a valid one has none.
func TestPathBytes(t *testing.T) {
	c := NewCollector(CollectorOptions{})
	res := detect.New(detect.Config{}).Detect([]byte("https://contosopathb.blob.core.windows.net/c?sv=2022-11-02&sr=c&sp=rl&se=2030-01-01T00:00:00Z&sig=U1lOVEhFVElDLVBBVEgtQllURVMtU0lHLTAwMDAwMDE%3D"))
	if len(res.Matches) != 1 {
		t.Fatalf("%d matches", len(res.Matches))
	}
	m := res.Matches[0]
	c.Add(Location{Path: "dir/\xff\xfename.txt", Line: 1, Column: 1}, m)
	c.Add(Location{Path: "ok/name.txt", Line: 1, Column: 1}, m)
	var buf bytes.Buffer
	s := NewJSONL(&buf)
	for _, f := range c.Findings() {
		_ = s.Write(context.Background(), f)
	}
	s.Close()
	var got struct {
		Locations []struct {
			Path      string `json:"path"`
			PathBytes []byte `json:"path_bytes"`
		} `json:"locations"`
	}
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	raw := map[string]string{}
	for _, l := range got.Locations {
		raw[l.Path] = string(l.PathBytes)
	}
	if raw["dir/\uFFFD\uFFFDname.txt"] != "dir/\xff\xfename.txt" || raw["ok/name.txt"] != "" {
		t.Errorf("path bytes %q", raw)
	}
}
