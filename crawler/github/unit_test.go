package github

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	"github.com/google/go-cmp/cmp"

	"github.com/sasquatch-sec/sasquatch/crawler"
)

func TestTokenRedacts(t *testing.T) {
	t.Parallel()
	tok := NewToken("  " + testToken + "\n")
	var logBuf bytes.Buffer
	slog.New(slog.NewJSONHandler(&logBuf, nil)).Info("x", "token", tok, "cfg", Config{Token: tok})
	slog.New(slog.NewTextHandler(&logBuf, nil)).Info("x", "token", tok)
	js, err := json.Marshal(struct{ T Token }{tok})
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{
		"%v": fmt.Sprintf("%v", tok), "%s": fmt.Sprintf("%s", tok), "%q": fmt.Sprintf("%q", tok),
		"%#v": fmt.Sprintf("%#v", tok), "%x": fmt.Sprintf("%x", tok), "%+v cfg": fmt.Sprintf("%+v", Config{Token: tok}),
		"%#v cfg": fmt.Sprintf("%#v", Config{Token: tok}), "json": string(js), "slog": logBuf.String(),
		"String": tok.String(),
	}
	for name, out := range outputs {
		if strings.Contains(out, testToken[4:]) {
			t.Errorf("%s output contains the token: %q", name, out)
		}
		if !strings.Contains(out, "REDACTED") {
			t.Errorf("%s output %q does not say REDACTED", name, out)
		}
	}
	if tok.v != testToken {
		t.Errorf("white space not trimmed")
	}
	if NewToken("").String() != "" {
		t.Error("zero token should print empty")
	}
	err = tok.redactErr(fmt.Errorf("server said %s", testToken))
	if strings.Contains(err.Error(), testToken) {
		t.Errorf("redactErr kept the token: %v", err)
	}
}

func TestLoadToken(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := filepath.Join(dir, "tok")
	if err := os.WriteFile(good, []byte(testToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad")
	if err := os.WriteFile(bad, []byte("ghp_a b\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == "GITHUB_TOKEN" {
				return v
			}
			return ""
		}
	}
	tests := []struct {
		name    string
		file    string
		env     string
		want    string
		wantErr bool
	}{
		{"file wins", good, "ghp_other", testToken, false},
		{"env", "", testToken, testToken, false},
		{"none", "", "", "", false},
		{"missing file", filepath.Join(dir, "nope"), "", "", true},
		{"bad chars", bad, "", "", true},
		{"empty file", empty, testToken, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tok, err := LoadToken(tc.file, env(tc.env))
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), "ghp_a") {
				t.Errorf("error contains the token: %v", err)
			}
			if tok.v != tc.want {
				t.Errorf("token mismatch")
			}
		})
	}
}

func TestPermalink(t *testing.T) {
	t.Parallel()
	const sha = "0123456789abcdef0123456789abcdef01234567"
	tests := []struct {
		base, repo, path string
		line             int
		want             string
	}{
		{"https://github.com", "contoso/web", "a/b.txt", 3, "https://github.com/contoso/web/blob/" + sha + "/a/b.txt#L3"},
		{"https://github.com/contoso/web", "contoso/web", "a/b.txt", 3, "https://github.com/contoso/web/blob/" + sha + "/a/b.txt#L3"},
		{"https://ghe.example.com/", "contoso/web", "dir with space/#x?.md", 1, "https://ghe.example.com/contoso/web/blob/" + sha + "/dir%20with%20space/%23x%3F.md#L1"},
		{"https://github.com", "contoso/web", "README.md", 0, "https://github.com/contoso/web/blob/" + sha + "/README.md"},
		{"https://github.com", "contoso/web", "", 3, ""}, // provenance unknown: no page to link to
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			t.Parallel()
			if got := Permalink(tc.base, tc.repo, sha, tc.path, tc.line); got != tc.want {
				t.Errorf("got %s\nwant %s", got, tc.want)
			}
		})
	} // Cases from the former report.Permalink, with their own commit.
	for _, tc := range []struct {
		base, repo, commit, path string
		line                     int
		want                     string
	}{
		{"https://github.com", "o/r", "abc", "dir/a b.md", 3, "https://github.com/o/r/blob/abc/dir/a%20b.md#L3"},
		{"https://ghe.example.com/", "o/r", "abc", "x", 0, "https://ghe.example.com/o/r/blob/abc/x"},
		{"https://github.com", "/tmp/repo", "abc", "x", 1, ""},
		{"https://github.com", "o/r/x", "abc", "x", 1, ""},
		{"https://github.com", "o/r", "", "x", 1, ""},
	} {
		if got := Permalink(tc.base, tc.repo, tc.commit, tc.path, tc.line); got != tc.want {
			t.Errorf("Permalink(%q, %q, %q, %q, %d) = %q, want %q", tc.base, tc.repo, tc.commit, tc.path, tc.line, got, tc.want)
		}
	}
}

func TestNewConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name             string
		cfg              Config
		wantErr          bool
		web, clone, host string
	}{
		{"public", Config{}, false, "https://github.com", "github.com", "api.github.com"},
		{"ghe", Config{APIURL: "https://ghe.example.com/api/v3"}, false, "https://ghe.example.com", "ghe.example.com", "ghe.example.com"},
		{"ghe.com", Config{APIURL: "https://api.contoso.ghe.com/"}, false, "https://contoso.ghe.com", "contoso.ghe.com", "api.contoso.ghe.com"},
		{"bad scheme", Config{APIURL: "ftp://x/"}, true, "", "", ""},
		{"userinfo", Config{APIURL: "https://u:p@x/"}, true, "", "", ""},
		{"bad history", Config{History: "some"}, true, "", "", ""},
		{"bad glob", Config{Include: []string{"[x"}}, true, "", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := New(tc.cfg)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v", err)
			}
			if err != nil {
				return
			}
			if c.WebURL() != tc.web || c.cloneHost != tc.clone || canonicalHost(c.apiURL) != tc.host {
				t.Errorf("web/clone/api = %s %s %s", c.WebURL(), c.cloneHost, canonicalHost(c.apiURL))
			}
		})
	}
}

func TestCheckCloneURL(t *testing.T) {
	t.Parallel()
	pub, _ := New(Config{})
	lab, _ := New(Config{APIURL: "http://127.0.0.1:8080/api/v3/"})
	tests := []struct {
		c   *Client
		url string
		ok  bool
	}{
		{pub, "https://github.com/contoso/web.git", true},
		{pub, "https://GitHub.com:443/contoso/web.git", true},
		{pub, "http://github.com/contoso/web.git", false},
		{pub, "https://evil.example/contoso/web.git", false},
		{pub, "https://x-access-token:t@github.com/contoso/web.git", false},
		{pub, "", false},
		{lab, "http://127.0.0.1:8080/git/contoso/web.git", true},
		{lab, "http://127.0.0.1:9090/git/contoso/web.git", false},
	}
	for _, tc := range tests {
		if err := tc.c.checkCloneURL(tc.url); (err == nil) != tc.ok {
			t.Errorf("%q: err = %v, want ok=%v", tc.url, err, tc.ok)
		}
	}
}

// rtFunc is a function RoundTripper.
type rtFunc func(*http.Request) (*http.Response, error)

func (f rtFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestAuthTransportAllowList(t *testing.T) {
	t.Parallel()
	var got []string
	base := rtFunc(func(r *http.Request) (*http.Response, error) {
		got = append(got, r.URL.Host+" "+r.Header.Get("Authorization"))
		return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader("")), Request: r}, nil
	})
	c, err := New(Config{Token: NewToken(testToken), Transport: base, Sleep: newFakeClock().Sleep})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{
		"https://api.github.com/rate_limit",
		"https://github.com/contoso/web.git/info/refs",
		"https://codeload.github.com/contoso/web/legacy.tar.gz/main",
		"https://api.github.com.evil.example/x",
		"http://api.github.com/x",
	} {
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		req.Header.Set("Authorization", "Bearer caller-set") // must be stripped off-host
		resp, err := c.archive.Transport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	want := []string{
		"api.github.com Bearer " + testToken,
		"github.com Bearer " + testToken,
		"codeload.github.com ",
		"api.github.com.evil.example ",
		"api.github.com ",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	if n := c.stats.apiCalls.Load(); n != 2 {
		t.Errorf("api calls %d, want 2", n)
	}
}

// TestRetryTransport: 5xx and resets are retried for GET with backoff,
// never for POST; a listing's 502 is returned to the caller.
func TestRetryTransport(t *testing.T) {
	t.Parallel()
	type step struct {
		code int
		err  error
	}
	tests := []struct {
		name     string
		method   string
		listing  bool
		steps    []step
		wantCode int
		wantErr  bool
		wantN    int
	}{
		{"503 then ok", "GET", false, []step{{503, nil}, {200, nil}}, 200, false, 2},
		{"reset then ok", "GET", false, []step{{0, syscall.ECONNRESET}, {200, nil}}, 200, false, 2},
		{"post not retried", "POST", false, []step{{503, nil}, {200, nil}}, 503, false, 1},
		{"listing 502 returned", "GET", true, []step{{502, nil}, {200, nil}}, 502, false, 1},
		{"listing 503 retried", "GET", true, []step{{503, nil}, {200, nil}}, 200, false, 2},
		{"bounded", "GET", false, []step{{500, nil}, {500, nil}, {500, nil}, {500, nil}, {500, nil}, {200, nil}}, 500, false, 5},
		{"404 not retried", "GET", false, []step{{404, nil}, {200, nil}}, 404, false, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			n := 0
			base := rtFunc(func(r *http.Request) (*http.Response, error) {
				s := tc.steps[n]
				n++
				if s.err != nil {
					return nil, &url.Error{Op: "Get", URL: r.URL.String(), Err: s.err}
				}
				return &http.Response{StatusCode: s.code, Header: http.Header{}, Body: io.NopCloser(strings.NewReader("{}")), Request: r}, nil
			})
			clk := newFakeClock()
			c, err := New(Config{Transport: base, Sleep: clk.Sleep, Clock: clk.Now})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			if tc.listing {
				ctx = context.WithValue(ctx, keyListing, true)
			}
			req, _ := http.NewRequestWithContext(ctx, tc.method, "https://api.github.com/orgs/contoso/repos", nil)
			resp, err := c.archive.Transport.RoundTrip(req)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v", err)
			}
			if resp != nil {
				resp.Body.Close()
				if resp.StatusCode != tc.wantCode {
					t.Errorf("status %d, want %d", resp.StatusCode, tc.wantCode)
				}
			}
			if n != tc.wantN {
				t.Errorf("attempts %d, want %d", n, tc.wantN)
			}
			if tc.wantN > 1 && clk.slept == 0 {
				t.Error("retried without backoff")
			}
		})
	}
}

func TestSmallerPage(t *testing.T) {
	t.Parallel()
	got := []int{}
	for p := 100; ; {
		np := smallerPage(p)
		got = append(got, np)
		if np == p {
			break
		}
		p = np
	}
	if d := cmp.Diff([]int{50, 25, 5, 1, 1}, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

func TestStripTop(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"contoso-web-abc/":           "",
		"contoso-web-abc/a.txt":      "a.txt",
		"contoso-web-abc/d/e/f.json": "d/e/f.json",
		"contoso-web-abc/../x":       "",
		"contoso-web-abc//etc/x":     "",
		"pax_global_header":          "",
		"./top/a":                    "a",
	}
	for in, want := range tests {
		got, ok := stripTop(in)
		if got != want || ok != (want != "") {
			t.Errorf("stripTop(%q) = %q %v, want %q", in, got, ok, want)
		}
	}
}

// TestTarballBlobs: regular files become blobs with git blob IDs; symlinks
// and oversized files are skips; a truncated stream is an error.
func TestTarballBlobs(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	add := func(h *tar.Header, data string) {
		h.Size = int64(len(data))
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(data)); err != nil {
			t.Fatal(err)
		}
	}
	add(&tar.Header{Name: "top/", Typeflag: tar.TypeDir, Mode: 0o755}, "")
	add(&tar.Header{Name: "top/a.txt", Typeflag: tar.TypeReg, Mode: 0o644}, "hello\n")
	add(&tar.Header{Name: "top/link", Typeflag: tar.TypeSymlink, Linkname: "/etc/passwd"}, "")
	add(&tar.Header{Name: "top/big.bin", Typeflag: tar.TypeReg, Mode: 0o644}, strings.Repeat("x", 100))
	// Unsafe names are neither scanned nor silently dropped: counted.
	add(&tar.Header{Name: "top/../../escape.txt", Typeflag: tar.TypeReg, Mode: 0o644}, "x")
	add(&tar.Header{Name: "/abs.txt", Typeflag: tar.TypeReg, Mode: 0o644}, "x")
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	zw.Close()
	full := buf.Bytes()
	run := func(data []byte) ([]string, []string) {
		c, _ := New(Config{MaxBlobSize: 50})
		s := &tarballSource{c: c, repo: Repo{FullName: "contoso/web"}, commit: strings.Repeat("a", 40),
			body: io.NopCloser(bytes.NewReader(data)), origins: map[string][]crawler.Origin{}}
		var blobs, errs []string
		for b, err := range s.Blobs(context.Background()) {
			if err != nil {
				if sk, ok := errors.AsType[*crawler.Skip](err); ok {
					errs = append(errs, string(sk.Reason)+" "+sk.Origin.Path)
				} else {
					errs = append(errs, "error")
				}
				continue
			}
			blobs = append(blobs, b.ID+" "+b.Origin.Path)
		}
		return blobs, errs
	}
	blobs, errs := run(full)
	// git hash-object of "hello\n"
	if d := cmp.Diff([]string{"ce013625030ba8dba906f756967f9e9ca394464a a.txt"}, blobs); d != "" {
		t.Errorf("blobs (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"symlink link", "too-large big.bin", "unsafe-path top/../../escape.txt", "unsafe-path /abs.txt"}, errs); d != "" {
		t.Errorf("skips (-want +got):\n%s", d)
	}
	_, errs = run(full[:len(full)/2])
	if len(errs) == 0 || errs[len(errs)-1] != "error" {
		t.Errorf("truncated stream: %v, want a final error", errs)
	}
}

// TestSecondaryPastReset: a secondary limit whose X-RateLimit-Reset is
// already past must not make the rate-limit library re-send in a tight
// loop; it is backed off from 60 s and bounded.
func TestSecondaryPastReset(t *testing.T) {
	t.Parallel()
	n := 0
	base := rtFunc(func(r *http.Request) (*http.Response, error) {
		n++
		h := http.Header{}
		h.Set("X-RateLimit-Reset", "1000")
		body := `{"message":"You have exceeded a secondary rate limit","documentation_url":"https://docs.github.com/x#abuse-rate-limits"}`
		return &http.Response{StatusCode: 403, Header: h, Body: io.NopCloser(strings.NewReader(body)), Request: r}, nil
	})
	clk := newFakeClock()
	c, err := New(Config{Transport: base, Sleep: clk.Sleep, Clock: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, "https://api.github.com/orgs/contoso/repos", nil)
	resp, err := c.archive.Transport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 || n != maxSecondaryWaits+1 {
		t.Errorf("status %d after %d attempts, want 403 after %d", resp.StatusCode, n, maxSecondaryWaits+1)
	}
	if clk.slept < 60*time.Second*(1<<maxSecondaryWaits-1) {
		t.Errorf("slept %v, want exponential backoff from 60 s", clk.slept)
	}
}

func TestValidName(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]bool{
		"contoso": true, "my.repo": true, "a-b_c": true, ".": false, "..": false, "...": false,
		"a/b": false, "": false, "a b": false, "%2e%2e": false, strings.Repeat("a", 101): false,
	} {
		if got := validName(name); got != want {
			t.Errorf("validName(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestStripURLQuery(t *testing.T) {
	t.Parallel()
	err := stripURLQuery(&url.Error{Op: "Get", URL: "https://codeload.github.com/contoso/web/legacy.tar.gz/main?token=SHORTLIVED", Err: io.ErrUnexpectedEOF})
	if strings.Contains(err.Error(), "SHORTLIVED") || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("got %v", err)
	}
}

// TestPrimaryLimit: 403/429 with X-RateLimit-Remaining: 0 waits until
// X-RateLimit-Reset, whether go-github-ratelimit classifies it (resource
// header present) or the fallback does.
func TestPrimaryLimit(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		code     int
		resource string
	}{{"403 core", 403, "core"}, {"429 core", 429, "core"}, {"403 no resource header", 403, ""}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clk := newFakeClock()
			n := 0
			base := rtFunc(func(r *http.Request) (*http.Response, error) {
				n++
				h := http.Header{}
				code := 200
				if n == 1 {
					code = tc.code
					h.Set("X-RateLimit-Remaining", "0")
					h.Set("X-RateLimit-Reset", fmt.Sprint(clk.Now().Add(90*time.Second).Unix()))
					if tc.resource != "" {
						h.Set("X-RateLimit-Resource", tc.resource)
					}
				}
				return &http.Response{StatusCode: code, Header: h, Body: io.NopCloser(strings.NewReader(`{"message":"API rate limit exceeded"}`)), Request: r}, nil
			})
			c, err := New(Config{Transport: base, Sleep: clk.Sleep, Clock: clk.Now})
			if err != nil {
				t.Fatal(err)
			}
			req, _ := http.NewRequest(http.MethodGet, "https://api.github.com/repos/contoso/web", nil)
			resp, err := c.archive.Transport.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 || n != 2 {
				t.Errorf("status %d after %d attempts, want 200 after 2", resp.StatusCode, n)
			}
			if w := time.Duration(c.stats.waitNanos.Load()); w < 89*time.Second || w > 100*time.Second {
				t.Errorf("recorded wait %v, want about 90 s", w)
			}
		})
	}
}

func TestClassifyCloneError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err       error
		reason    string
		transient bool
	}{
		{fmt.Errorf("clone x: %w", transport.ErrEmptyRemoteRepository), "empty", false},
		{fmt.Errorf("clone x: %w: gone", transport.ErrRepositoryNotFound), "not-found", false},
		{fmt.Errorf("clone x: %w", transport.ErrAuthenticationRequired), "unauthorized", false},
		{fmt.Errorf("clone x: %w", transport.ErrAuthorizationFailed), "forbidden", false},
		{fmt.Errorf("clone x: %w", syscall.ECONNRESET), "clone-failed", true},
		{fmt.Errorf("clone x: %w", io.ErrUnexpectedEOF), "clone-failed", true},
		{fmt.Errorf("clone x: %w", context.DeadlineExceeded), "timeout", false},
		{fmt.Errorf("clone x: %w", plumbing.NewUnexpectedError(&githttp.Err{Response: &http.Response{StatusCode: 502}})), "clone-failed", true},
		{fmt.Errorf("clone x: %w", plumbing.NewUnexpectedError(&githttp.Err{Response: &http.Response{StatusCode: 451}})), "blocked-451", false},
		// A refused cross-host redirect is permanent: never retried.
		{fmt.Errorf("clone x: %w", &url.Error{Op: "Get", URL: "https://elsewhere.example/x", Err: errors.New("redirect to another host refused")}), "clone-failed", false},
		{fmt.Errorf("clone x: %w", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}), "clone-failed", true},
		// A message that merely looks transient decides nothing.
		{errors.New("clone x: unexpected client error: status code: 502"), "clone-failed", false},
		{errors.New("clone x: object not found"), "clone-failed", false},
	}
	for _, tc := range tests {
		reason, transient := classifyCloneError(tc.err)
		if reason != tc.reason || transient != tc.transient {
			t.Errorf("%v: got %s %v, want %s %v", tc.err, reason, transient, tc.reason, tc.transient)
		}
	}
}

// TestNoToken: without a token no request carries Authorization and clones
// get no auth.
func TestNoToken(t *testing.T) {
	t.Parallel()
	var got []string
	base := rtFunc(func(r *http.Request) (*http.Response, error) {
		got = append(got, r.Header.Get("Authorization"))
		return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader("")), Request: r}, nil
	})
	c, err := New(Config{Transport: base})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, "https://api.github.com/orgs/contoso/repos", nil)
	resp, err := c.archive.Transport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if len(got) != 1 || got[0] != "" || c.cloneAuth() != nil {
		t.Errorf("Authorization %q, clone auth %v; want none", got, c.cloneAuth())
	}
}
