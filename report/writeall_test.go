package report

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sasquatch-sec/sasquatch/detect"
)

// manyFindings returns n findings of every kind, with and without dates.
func manyFindings(n int) []Finding {
	kinds := []detect.Kind{detect.KindAccount, detect.KindService, detect.KindUserDelegation, detect.KindAccountKey}
	d := time.Date(2024, 2, 3, 4, 5, 6, 0, time.UTC)
	out := make([]Finding, n)
	for i := range out {
		f := Finding{
			Fingerprint: fmt.Sprintf("%032x", i),
			Severity:    detect.Severity(i % 5),
			Kind:        kinds[i%len(kinds)],
			Account:     fmt.Sprintf("contosowa%04d", i),
			Redacted:    "sv=2022-11-02&sr=c&sp=rl&sig=REDACTED&x=<&>",
			Locations:   []Location{{Path: fmt.Sprintf("dir/f%d.txt", i), Line: i + 1, Column: 3}},
		}
		if i%3 == 0 {
			f.Locations[0].Date = &d
		}
		out[i] = f
	}
	return out
}

// TestWriteAllMatchesWrite: WriteAll writes byte for byte what Write writes
// one finding at a time, across batches, for every format.
func TestWriteAllMatchesWrite(t *testing.T) {
	t.Parallel()
	fs := manyFindings(2*jsonlBatch + 77)
	for _, format := range Formats() {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			opts := Options{Now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Version: "test"}
			var one, all bytes.Buffer
			s1, err := New(format, &one, opts)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range fs {
				if err := s1.Write(t.Context(), f); err != nil {
					t.Fatal(err)
				}
			}
			if err := s1.Close(); err != nil {
				t.Fatal(err)
			}
			s2, _ := New(format, &all, opts)
			if err := WriteAll(t.Context(), s2, append([]Finding(nil), fs...), 0); err != nil {
				t.Fatal(err)
			}
			if err := s2.Close(); err != nil {
				t.Fatal(err)
			}
			if one.Len() == 0 || !bytes.Equal(one.Bytes(), all.Bytes()) {
				t.Fatalf("WriteAll wrote %d bytes, Write %d, and they differ", all.Len(), one.Len())
			}
			if format == "jsonl" && strings.Count(all.String(), "\n") != len(fs) {
				t.Fatalf("%d lines for %d findings", strings.Count(all.String(), "\n"), len(fs))
			}
		})
	}
}

type failWriter struct{ after int }

func (w *failWriter) Write(p []byte) (int, error) {
	if w.after <= 0 {
		return 0, errors.New("disk full")
	}
	w.after--
	return len(p), nil
}

// TestWriteAllErrors: a failing writer or an ended context stops WriteAll
// with the error, and a closed sink refuses it.
func TestWriteAllErrors(t *testing.T) {
	t.Parallel()
	fs := manyFindings(3 * jsonlBatch)
	if err := WriteAll(t.Context(), NewJSONL(&failWriter{after: 1}), fs, 2); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("failing writer: %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := WriteAll(ctx, NewJSONL(&bytes.Buffer{}), fs, 0); !errors.Is(err, context.Canceled) {
		t.Errorf("ended context: %v", err)
	}
	s := NewJSONL(&bytes.Buffer{})
	s.Close()
	if err := WriteAll(t.Context(), s, fs, 1); !errors.Is(err, errClosed) {
		t.Errorf("closed sink: %v", err)
	}
}

// TestUnprintableDates: a date encoding/json cannot hold (a year past 9999,
// a zone offset of a day or more, both possible in a hostile commit) does
// not fail the report: the JSON formats drop it or write it in UTC, and
// the caller's finding is left as it was.
func TestUnprintableDates(t *testing.T) {
	far := time.Date(20000, 1, 1, 0, 0, 0, 0, time.UTC)
	odd := time.Date(2024, 5, 1, 12, 0, 0, 0, time.FixedZone("+9959", (99*60+59)*60))
	fine := time.Date(2024, 5, 1, 12, 0, 0, 0, time.FixedZone("+0100", 3600))
	edge := time.Date(9999, 12, 31, 23, 30, 0, 0, time.UTC).In(time.FixedZone("+0100", 3600)) // year 10000 in its zone
	f := Finding{Fingerprint: "ff", Severity: detect.High, Kind: detect.KindService, Expiry: &far, Locations: []Location{
		{Path: "a.txt", Line: 1, Column: 1, Date: &fine},
		{Path: "b.txt", Line: 1, Column: 1, Date: &far},
		{Path: "c.txt", Line: 1, Column: 1, Date: &odd},
		{Path: "d.txt", Line: 1, Column: 1, Date: &edge},
	}}
	for _, format := range []string{"jsonl", "json"} {
		var buf bytes.Buffer
		s, err := New(format, &buf, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := WriteAll(t.Context(), s, []Finding{f}, 1); err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		out := strings.NewReplacer(" ", "", "\n", "").Replace(buf.String()) // JSON is indented
		for _, want := range []string{`"date":"2024-05-01T12:00:00+01:00"`, `"date":"2024-04-27T08:01:00Z"`, `"date":"9999-12-31T23:30:00Z"`, `"expiry":null`} {
			if !strings.Contains(out, want) {
				t.Errorf("%s: %s missing:\n%s", format, want, out)
			}
		}
		if strings.Contains(out, "20000") {
			t.Errorf("%s: a year past 9999 written:\n%s", format, out)
		}
	}
	if f.Locations[1].Date != &far || f.Locations[2].Date != &odd {
		t.Errorf("the caller's locations were changed")
	}
}
