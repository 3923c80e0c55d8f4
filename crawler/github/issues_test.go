package github

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// issueServer serves mux under /api/v3/ (a non-root base path, so URL
// mistakes fail) and returns a Client on it with an instant clock.
func issueServer(t *testing.T, mux *http.ServeMux) *Client {
	t.Helper()
	srv := httptest.NewServer(http.StripPrefix("/api/v3", mux))
	t.Cleanup(srv.Close)
	clk := newFakeClock()
	c, err := New(Config{APIURL: srv.URL + "/api/v3/", Token: NewToken(testToken), Clock: clk.Now, Sleep: clk.Sleep})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func jsonReply(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// TestIssueErrorsTyped: 410, 404, 403, an archived repository's 403 and 422
// map to sentinels matched with errors.Is and errors.As, and are
// definitive; a 5xx or a dropped connection on a POST is an unknown outcome.
func TestIssueErrorsTyped(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		code       int
		msg        string
		want       error
		definitive bool
	}{
		{"issues disabled", 410, "Issues are disabled for this repo", ErrIssuesDisabled, true},
		{"not found", 404, "Not Found", ErrNotFound, true},
		{"forbidden", 403, "Resource not accessible by integration", ErrForbidden, true},
		{"archived", 403, "Repository was archived so is read-only.", ErrArchived, true},
		{"invalid", 422, "Validation Failed", ErrInvalid, true},
		{"server error", 500, "oops", ErrUnknownOutcome, false},
		{"dropped", 0, "", ErrUnknownOutcome, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var hits atomic.Int32
			mux := http.NewServeMux()
			mux.HandleFunc("POST /repos/o/r/issues", func(w http.ResponseWriter, r *http.Request) {
				hits.Add(1)
				if tc.code == 0 {
					conn, _, _ := w.(http.Hijacker).Hijack()
					conn.Close()
					return
				}
				jsonReply(w, tc.code, map[string]any{"message": tc.msg})
			})
			c := issueServer(t, mux)
			_, err := c.CreateIssue(context.Background(), "o/r", NewIssue{Title: "t", Body: "b"})
			if !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
			var ae *APIError
			if !errors.As(err, &ae) || ae.Op != "create issue" || ae.Repo != "o/r" || ae.Status != tc.code {
				t.Errorf("APIError %+v", ae)
			}
			if Definitive(err) != tc.definitive {
				t.Errorf("Definitive = %v, want %v", !tc.definitive, tc.definitive)
			}
			if n := hits.Load(); n != 1 {
				t.Errorf("the POST was sent %d times, want exactly once (never retried)", n)
			}
			if strings.Contains(err.Error(), testToken) {
				t.Error("the error holds the token")
			}
		})
	}
}

// TestListIssuesFollowsLink: three pages through Link headers, the query
// (labels, creator, state=all) on every page, pull requests left out.
func TestListIssuesFollowsLink(t *testing.T) {
	t.Parallel()
	var srvURL string
	mux := http.NewServeMux()
	mux.HandleFunc("GET /repos/o/r/issues", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("labels") != "leaked-credential" || q.Get("creator") != "bot" || q.Get("state") != "all" || q.Get("since") == "" {
			t.Errorf("query %s", r.URL.RawQuery)
		}
		page := q.Get("page")
		if page == "" {
			page = "1"
		}
		var items []map[string]any
		switch page {
		case "1":
			items = []map[string]any{{"number": 1, "body": "a"}, {"number": 2, "pull_request": map[string]any{"url": "x"}}}
		case "2":
			items = []map[string]any{{"number": 3, "body": "c"}}
		case "3":
			items = []map[string]any{{"number": 4, "body": "d", "user": map[string]any{"login": "bot"}}}
		}
		if page != "3" {
			q.Set("page", fmt.Sprint(page[0]-'0'+1))
			w.Header().Set("Link", fmt.Sprintf(`<%s/api/v3/repos/o/r/issues?%s>; rel="next"`, srvURL, q.Encode()))
		}
		jsonReply(w, 200, items)
	})
	srv := httptest.NewServer(http.StripPrefix("/api/v3", mux))
	t.Cleanup(srv.Close)
	srvURL = srv.URL
	clk := newFakeClock()
	c, err := New(Config{APIURL: srv.URL + "/api/v3/", Clock: clk.Now, Sleep: clk.Sleep})
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.ListIssues(context.Background(), "o/r", IssueQuery{Label: "leaked-credential", Creator: "bot", Since: clk.Now()})
	if err != nil {
		t.Fatal(err)
	}
	var nums []int
	for _, i := range got {
		nums = append(nums, i.Number)
	}
	if fmt.Sprint(nums) != "[1 3 4]" || got[2].User != "bot" {
		t.Errorf("issues %v (%+v), want [1 3 4]", nums, got)
	}
}

// TestEnsureLabel: a missing label is created once; an existing one is not;
// a 422 already_exists (a concurrent creator) is success.
func TestEnsureLabel(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		exists    bool
		postCode  int
		wantPosts int32
		wantErr   bool
	}{
		{"missing", false, 201, 1, false},
		{"exists", true, 201, 0, false},
		{"race", false, 422, 1, false},
		{"forbidden", false, 403, 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var posts atomic.Int32
			mux := http.NewServeMux()
			mux.HandleFunc("GET /repos/o/r/labels/{name}", func(w http.ResponseWriter, r *http.Request) {
				if r.PathValue("name") != "leaked-credential" {
					t.Errorf("label %q", r.PathValue("name"))
				}
				if tc.exists {
					jsonReply(w, 200, map[string]any{"name": "leaked-credential"})
					return
				}
				jsonReply(w, 404, map[string]any{"message": "Not Found"})
			})
			mux.HandleFunc("POST /repos/o/r/labels", func(w http.ResponseWriter, r *http.Request) {
				posts.Add(1)
				body := map[string]any{"message": "x"}
				if tc.postCode == 422 {
					body = map[string]any{"message": "Validation Failed", "errors": []map[string]any{{"resource": "Label", "code": "already_exists"}}}
				}
				jsonReply(w, tc.postCode, body)
			})
			c := issueServer(t, mux)
			err := c.EnsureLabel(context.Background(), "o/r", Label{Name: "leaked-credential", Color: "b60205"})
			if (err != nil) != tc.wantErr || posts.Load() != tc.wantPosts {
				t.Errorf("err %v, %d POSTs; want error %v, %d POSTs", err, posts.Load(), tc.wantErr, tc.wantPosts)
			}
		})
	}
}

// TestRepoFactsAndPrivateReporting reads visibility, archived, has_issues
// and the private reporting flag (404: not offered).
func TestRepoFactsAndPrivateReporting(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /repos/o/r", func(w http.ResponseWriter, r *http.Request) {
		jsonReply(w, 200, map[string]any{"id": 7, "full_name": "o/r", "private": false, "visibility": "public", "archived": true, "has_issues": false})
	})
	mux.HandleFunc("GET /repos/o/r/private-vulnerability-reporting", func(w http.ResponseWriter, r *http.Request) {
		jsonReply(w, 200, map[string]any{"enabled": true})
	})
	c := issueServer(t, mux)
	f, err := c.RepoFacts(context.Background(), "o/r")
	if err != nil || f != (RepoFacts{ID: 7, FullName: "o/r", Visibility: "public", Archived: true}) || !f.Public() {
		t.Errorf("facts %+v, %v", f, err)
	}
	if on, err := c.PrivateReporting(context.Background(), "o/r"); !on || err != nil {
		t.Errorf("private reporting %v, %v; want true", on, err)
	}
	if on, err := c.PrivateReporting(context.Background(), "o/other"); on || err != nil {
		t.Errorf("private reporting on a 404: %v, %v; want false, nil", on, err)
	}
	if _, err := c.RepoFacts(context.Background(), "o/../x"); err == nil {
		t.Error("a bad repository name was accepted")
	}
}

// TestUploadSARIFPayload is issue 12 "must be true" 5: the payload sent to
// code scanning is the SARIF, gzipped then base64-encoded, with the commit
// and ref; the 202 reply's ID is returned; the POST is sent once.
func TestUploadSARIFPayload(t *testing.T) {
	t.Parallel()
	sarif := []byte(`{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"sasquatch"}},"results":[]}]}`)
	var got []byte
	var posts atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("POST /repos/o/r/code-scanning/sarifs", func(w http.ResponseWriter, r *http.Request) {
		posts.Add(1)
		var in struct {
			CommitSHA string `json:"commit_sha"`
			Ref       string `json:"ref"`
			Sarif     string `json:"sarif"`
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			t.Error(err)
		}
		if in.CommitSHA != strings.Repeat("ab", 20) || in.Ref != "refs/heads/main" {
			t.Errorf("commit %q ref %q", in.CommitSHA, in.Ref)
		}
		gz, err := base64.StdEncoding.DecodeString(in.Sarif)
		if err != nil {
			t.Fatalf("not base64: %v", err)
		}
		zr, err := gzip.NewReader(bytes.NewReader(gz))
		if err != nil {
			t.Fatalf("not gzip: %v", err)
		}
		got, _ = io.ReadAll(zr)
		jsonReply(w, http.StatusAccepted, map[string]any{"id": "47177e22-5596-11eb-80a1-c1e54ef945c6", "url": "x"})
	})
	c := issueServer(t, mux)
	id, err := c.UploadSARIF(context.Background(), "o/r", SARIFUpload{SARIF: sarif, Commit: strings.Repeat("ab", 20), Ref: "refs/heads/main"})
	if err != nil || id != "47177e22-5596-11eb-80a1-c1e54ef945c6" {
		t.Fatalf("id %q, err %v", id, err)
	}
	if !bytes.Equal(got, sarif) || posts.Load() != 1 {
		t.Errorf("decoded payload %q (%d POSTs), want the SARIF once", got, posts.Load())
	}
	if _, err := c.UploadSARIF(context.Background(), "o/r", SARIFUpload{SARIF: sarif, Commit: "abc", Ref: "refs/heads/main"}); err == nil {
		t.Error("a short commit SHA was accepted")
	}
}

// TestPrivateReportAndAdvisories: the report is POSTed once with summary,
// description, severity and CWE; the listing follows cursor Link headers on
// the API host only.
func TestPrivateReportAndAdvisories(t *testing.T) {
	t.Parallel()
	var srvURL string
	mux := http.NewServeMux()
	mux.HandleFunc("POST /repos/o/r/security-advisories/reports", func(w http.ResponseWriter, r *http.Request) {
		var in map[string]any
		_ = json.NewDecoder(r.Body).Decode(&in)
		if in["summary"] != "s" || in["description"] != "d" || in["severity"] != "high" || fmt.Sprint(in["cwe_ids"]) != "[CWE-798]" {
			t.Errorf("report %v", in)
		}
		jsonReply(w, 201, map[string]any{"ghsa_id": "GHSA-xxxx", "html_url": "https://h/o/r/security/advisories/GHSA-xxxx"})
	})
	mux.HandleFunc("GET /repos/o/r/security-advisories", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("after") == "" {
			w.Header().Set("Link", `<`+srvURL+`/api/v3/repos/o/r/security-advisories?per_page=100&after=c1>; rel="next"`)
			jsonReply(w, 200, []map[string]any{{"ghsa_id": "GHSA-1"}})
			return
		}
		w.Header().Set("Link", `<https://elsewhere.invalid/next>; rel="next"`)
		jsonReply(w, 200, []map[string]any{{"ghsa_id": "GHSA-2"}})
	})
	srv := httptest.NewServer(http.StripPrefix("/api/v3", mux))
	t.Cleanup(srv.Close)
	srvURL = srv.URL
	clk := newFakeClock()
	c, _ := New(Config{APIURL: srv.URL + "/api/v3/", Clock: clk.Now, Sleep: clk.Sleep})
	a, err := c.CreatePrivateReport(context.Background(), "o/r", PrivateReport{Summary: "s", Description: "d", Severity: "high", CWEs: []string{"CWE-798"}})
	if err != nil || a.GHSAID != "GHSA-xxxx" {
		t.Fatalf("%+v %v", a, err)
	}
	as, err := c.ListAdvisories(context.Background(), "o/r")
	if err != nil || len(as) != 2 || as[1].GHSAID != "GHSA-2" {
		t.Errorf("advisories %+v, %v; want 2 (the off-host next link ignored)", as, err)
	}
}
