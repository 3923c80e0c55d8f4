package github

import (
	"context"
	"strconv"

	"encoding/base64"
	gh "github.com/google/go-github/v56/github"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// TestRedactForms is issue 10 item 10: the token is removed from text in
// every form a library or a server may echo it.
func TestRedactForms(t *testing.T) {
	t.Parallel()
	const secret = "ghp_SYNTHETICformsTOKEN0000000000000001"
	tok := NewToken(secret)
	basic := base64.StdEncoding.EncodeToString([]byte("x-access-token:" + secret))
	for _, in := range []string{
		"plain " + secret + " end",
		"lower " + strings.ToLower(secret),
		"upper " + strings.ToUpper(secret),
		"Authorization: Basic " + basic,
		"raw " + strings.TrimRight(basic, "="),
		"url " + base64.URLEncoding.EncodeToString([]byte("x-access-token:"+secret)),
		"query token=" + url.QueryEscape(secret+"/"),
	} {
		out := tok.redactString(in)
		low := strings.ToLower(out)
		if strings.Contains(low, strings.ToLower(secret)) || strings.Contains(out, strings.TrimRight(basic, "=")) {
			t.Errorf("%q -> %q still holds the token", in, out)
		}
		if !strings.Contains(out, redacted) {
			t.Errorf("%q -> %q: nothing redacted", in, out)
		}
	}
	if got := tok.redactString("nothing here, ünïcode"); got != "nothing here, ünïcode" {
		t.Errorf("clean text changed: %q", got)
	}
}

// TestServerTextNotCopied: a hostile API that echoes the token, lower-cased,
// in its error bodies never gets it into a skip's detail or a listing
// problem: API errors are described by their status only.
func TestServerTextNotCopied(t *testing.T) {
	t.Parallel()
	const secret = "ghp_SYNTHETICechoTOKEN00000000000000001"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte(`{"message":"no such thing for ` + strings.ToLower(secret) + `","documentation_url":"x"}`))
	}))
	defer srv.Close()
	c, err := New(Config{APIURL: srv.URL + "/api/v3/", Token: NewToken(secret)})
	if err != nil {
		t.Fatal(err)
	}
	lst, err := c.Repos(context.Background(), Targets{Orgs: []string{"acme"}, Repos: []string{"acme/web"}})
	text := err.Error()
	for _, p := range lst.Problems {
		text += "\n" + p
	}
	for _, k := range lst.Skipped {
		text += "\n" + k.Detail
	}
	if strings.Contains(strings.ToLower(text), strings.ToLower(secret)) || strings.Contains(text, "no such thing") {
		t.Errorf("server text copied:\n%s", text)
	}
	if !strings.Contains(text, "HTTP 404") {
		t.Errorf("want the status in:\n%s", text)
	}
}

// TestDedupWithoutIDs is issue 10 item 12: a hostile API that gives
// repositories no ID is deduplicated by name in a map (it was a scan of
// everything listed so far, quadratic: 60,000 took 17.6 s of CPU). Here
// 60,000 nameless repositories, each listed twice in another case, are
// kept once each.
func TestDedupWithoutIDs(t *testing.T) {
	t.Parallel()
	l := &lister{lst: &Listing{}, seenID: map[int64]bool{}, seenName: map[string]bool{}}
	const n = 60000
	for round := range 2 {
		for i := range n {
			owner := "contoso"
			if round == 1 {
				owner = "CONTOSO"
			}
			name := "repo-" + strconv.Itoa(i)
			l.add(&gh.Repository{Name: &name, FullName: gh.String(owner + "/" + name), Owner: &gh.User{Login: &owner}}, false)
		}
	}
	if len(l.repos) != n {
		t.Errorf("%d repositories kept, want %d", len(l.repos), n)
	}
}
