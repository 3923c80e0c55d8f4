package main

import (
	"bytes"
	"log/slog"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sasquatch-sec/sasquatch/detect"
	"github.com/sasquatch-sec/sasquatch/report"
)

// TestTipsToSaveAfterCap: --save-tips writes this run's tips, unless the
// findings store dropped tokens past its cap; then the tips the run started
// from, so that the next incremental run looks at them again.
func TestTipsToSaveAfterCap(t *testing.T) {
	var logs bytes.Buffer
	c := &common{logger: slog.New(slog.NewTextHandler(&logs, nil))}
	saved := tipSet{"repo": {"bbbb"}}
	since := tipSet{"repo": {"aaaa"}}
	d := detect.New(detect.Config{})
	coll := report.NewCollector(report.CollectorOptions{MaxFindings: 1})
	if d := cmp.Diff(saved, tipsToSave(c, coll, saved, since)); d != "" {
		t.Errorf("nothing dropped: tips (-want +got):\n%s", d)
	}
	for i, sig := range []string{"SYNTHETIC-CLI-TIPS-SIG-000000001", "SYNTHETIC-CLI-TIPS-SIG-000000002"} {
		for _, m := range d.Detect([]byte(sasURL("contosotips0"+string(rune('1'+i)), sig))).Matches {
			coll.Add(report.Location{Path: "a.txt", Line: i + 1}, m)
		}
	}
	if coll.Dropped() == 0 {
		t.Fatal("the cap of one token dropped nothing")
	}
	if d := cmp.Diff(since, tipsToSave(c, coll, saved, since)); d != "" {
		t.Errorf("tokens dropped: tips (-want +got):\n%s", d)
	}
	if !bytes.Contains(logs.Bytes(), []byte("findings cap")) {
		t.Errorf("no warning: %s", logs.String())
	}
}
