package verify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// recorder is the recording transport: it sits between the Verifier's
// guard and the network, notes every request that would leave the process,
// and either answers itself (reply) or forwards to the real transport.
type recorder struct {
	mu    sync.Mutex
	reqs  []recorded
	next  http.RoundTripper
	reply func(*http.Request) *http.Response // nil: forward
}

type recorded struct {
	Method string
	URL    *url.URL
	Body   bool
}

func (r *recorder) wrap(next http.RoundTripper) http.RoundTripper { r.next = next; return r }

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	u := *req.URL
	r.mu.Lock()
	r.reqs = append(r.reqs, recorded{Method: req.Method, URL: &u, Body: req.Body != nil && req.Body != http.NoBody})
	reply := r.reply
	r.mu.Unlock()
	if reply != nil {
		resp := reply(req)
		resp.Request = req
		return resp, nil
	}
	return r.next.RoundTrip(req)
}

func (r *recorder) requests() []recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]recorded(nil), r.reqs...)
}

func answer(status int, code string) func(*http.Request) *http.Response {
	return func(*http.Request) *http.Response {
		h := http.Header{}
		if code != "" {
			h.Set("x-ms-error-code", code)
		}
		return &http.Response{StatusCode: status, Header: h, Body: http.NoBody}
	}
}

// assertReadOnly is the recording proxy's verdict: every request that left
// was a documented read-only probe, to an allow-listed storage host (or the
// endpoint), over https (or the endpoint's scheme), with no body.
func assertReadOnly(t *testing.T, reqs []recorded, endpointHost string) {
	t.Helper()
	for _, r := range reqs {
		checkDocumented(t, r.Method, r.URL)
		if r.Body {
			t.Errorf("%s %s had a body", r.Method, r.URL.Host)
		}
		if endpointHost != "" {
			if r.URL.Host != endpointHost {
				t.Errorf("request to %s, want only the endpoint %s", r.URL.Host, endpointHost)
			}
			continue
		}
		if _, ok := parseStorageHost(r.URL.Host); !ok || r.URL.Scheme != "https" {
			t.Errorf("request to %s://%s: not an allow-listed storage host", r.URL.Scheme, r.URL.Host)
		}
	}
}

var testNow = time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)

func newTest(t *testing.T, rec *recorder, cfg Config) *Verifier {
	t.Helper()
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return testNow }
	}
	if rec != nil {
		cfg.transport = rec.wrap
	}
	if cfg.resolver == nil {
		// nothing in these tests may reach real DNS
		cfg.resolver = &fakeResolver{err: errors.New("test: no DNS")}
	}
	clk := &fakeClock{t: t0}
	if cfg.clock == nil {
		cfg.clock, cfg.sleep = clk.now, clk.sleep
	}
	v, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestCheckSendsOnlyDocumentedRequests feeds tokens of every kind and host
// form; the recording transport proves that only documented read-only
// probes left, one per probed token, and none to a host outside the
// allow-list.
func TestCheckSendsOnlyDocumentedRequests(t *testing.T) {
	t.Parallel()
	const se = "&se=2029-01-01T00:00:00Z&sig="
	sigN := func(n int) string {
		return strings.TrimSuffix(sig01, "MDE%3D") + fmt.Sprintf("%s%%3D", []string{"MDI", "MDM", "MDQ", "MDU", "MDY", "MDc", "MDg", "MDk", "MTA", "MTE", "MTI", "MTM", "MTQ", "MTU", "MTY", "MTc", "MTg", "MTk", "MjA", "MjE", "MjI"}[n])
	}
	probed := []string{
		"https://contosoa.blob.core.windows.net/c/b.txt?sv=2022-11-02&ss=bfqt&srt=sco&sp=rwdlacupitfx" + se + sigN(0),
		"https://contosob.blob.core.windows.net/c?sv=2022-11-02&sr=c&sp=racwdl" + se + sigN(1),
		"https://contosoc.blob.core.windows.net/c/d/e.bin?sv=2022-11-02&sr=b&sp=r" + se + sigN(2),
		"https://contosod.dfs.core.windows.net/fs/dir?sv=2020-02-10&sr=d&sdd=1&sp=rl" + se + sigN(3),
		"https://contosoe.file.core.windows.net/share/f.txt?sv=2020-08-04&sr=f&sp=r" + se + sigN(4),
		"https://contosof.file.core.windows.net/share?sv=2020-08-04&sr=s&sp=rl" + se + sigN(5),
		"https://contosog.queue.core.windows.net/jobs/messages?sv=2021-08-06&sp=raup" + se + sigN(6),
		"https://contosoh.table.core.windows.net/Orders?sv=2019-02-02&tn=orders&sp=raud" + se + sigN(7),
		"https://contosoi.queue.core.windows.net/?sv=2022-11-02&ss=q&srt=sco&sp=rwdlacup" + se + sigN(8),
		"https://contosoj.blob.core.chinacloudapi.cn/?sv=2021-12-02&ss=bf&srt=co&sp=rwdl" + se + sigN(9),
		"https://contosok.blob.core.usgovcloudapi.net/c?sv=2022-11-02&sr=c&sp=rl" + se + sigN(10),
		"https://contosol-secondary.blob.core.windows.net/c/x?sv=2022-11-02&sr=b&sp=r" + se + sigN(11),
		"BlobEndpoint=https://contosom.blob.core.windows.net;SharedAccessSignature=sv=2022-11-02&ss=b&srt=sco&sp=rl" + se + sigN(12),
	}
	notProbed := map[string]string{
		"https://evil.example.com/c/x?sv=2022-11-02&sr=b&sp=r" + se + sigN(13):                            "host-not-allowed",
		"https://contoso.blob.core.windows.net.evil.com/c/x?sv=2022-11-02&sr=b&sp=r" + se + sigN(14):      "host-not-allowed",
		"https://203.0.113.9/devstoreaccount1/c/x?sv=2022-11-02&sr=b&sp=r" + se + sigN(15):                "host-not-allowed",
		"http://127.0.0.1:10000/devstoreaccount1/c/x?sv=2022-11-02&sr=b&sp=r" + se + sigN(16):             "host-not-allowed",
		"https://contosopl.privatelink.blob.core.windows.net/c1?sv=2022-11-02&sr=c&sp=rl" + se + sigN(17): "host-not-allowed",
		"https://contosoweb.z22.web.core.windows.net/index.html?sv=2022-11-02&sr=b&sp=r" + se + sigN(18):  "host-not-allowed",
		"token: sv=2022-11-02&ss=b&srt=sco&sp=rl" + se + sigN(19):                                         "no-endpoint",
	}
	rec := &recorder{reply: answer(200, "")}
	v := newTest(t, rec, Config{})
	for _, in := range probed {
		tok := mustParse(t, in)
		if r := v.Check(context.Background(), tok, false); r.Liveness != Live {
			t.Errorf("%s: %+v, want live", tok.Redacted, r)
		}
	}
	for in, why := range notProbed {
		tok := mustParse(t, in)
		r := v.Check(context.Background(), tok, false)
		if r.Liveness != NotChecked || r.Detail != why {
			t.Errorf("%s: %+v, want not-checked (%s)", tok.Redacted, r, why)
		}
	}
	reqs := rec.requests()
	if len(reqs) != len(probed) {
		t.Errorf("%d requests, want %d (one per probed token)", len(reqs), len(probed))
	}
	assertReadOnly(t, reqs, "")
	for _, r := range reqs {
		for _, bad := range []string{"evil", "203.0.113.9", "127.0.0.1", "privatelink", "web.core"} {
			if strings.Contains(r.URL.Host, bad) {
				t.Errorf("request went to %s", r.URL.Host)
			}
		}
	}
}

// TestCheckExpiredSendsNothing: a token past its expiry, by the match's flag
// or by Config.Now, is expired with no request; so is everything that
// cannot be bound to a storage host.
func TestCheckExpiredSendsNothing(t *testing.T) {
	t.Parallel()
	rec := &recorder{reply: answer(200, "")}
	v := newTest(t, rec, Config{})
	past := mustParse(t, "https://contosoold16.blob.core.windows.net/?sv=2021-04-10&ss=bfqt&srt=sco&sp=rwdlacupx&se=2023-04-01T00:00:00Z&st=2022-04-01T00:00:00Z&spr=https&sig="+sig01)
	if r := v.Check(context.Background(), past, false); r.Liveness != Expired || r.Detail != "expired-locally" {
		t.Errorf("past expiry: %+v", r)
	}
	now := mustParse(t, "https://contosonow.blob.core.windows.net/?sv=2021-04-10&ss=b&srt=sco&sp=r&se=2026-09-01T00:00:00Z&sig="+sig02)
	if r := v.Check(context.Background(), now, false); r.Liveness != Expired {
		t.Errorf("expiry == now: %+v", r)
	}
	future := mustParse(t, "https://contosofut.blob.core.windows.net/?sv=2021-04-10&ss=b&srt=sco&sp=r&se=2030-01-01T00:00:00Z&sig="+sig02)
	if r := v.Check(context.Background(), future, true); r.Liveness != Expired {
		t.Errorf("match flagged expired: %+v", r)
	}
	notYet := mustParse(t, "https://contosofut43.blob.core.windows.net/?sv=2023-08-03&ss=b&srt=sco&sp=rl&st=2027-01-01T00:00:00Z&se=2027-02-01T00:00:00Z&spr=https&sig="+sig01)
	if r := v.Check(context.Background(), notYet, false); r.Liveness != NotChecked || r.Detail != "not-yet-valid" {
		t.Errorf("not yet valid: %+v", r)
	}
	key := mustParse(t, "DefaultEndpointsProtocol=https;AccountName=contosokey38;AccountKey=U1lOVEhFVElDLUZBS0UtQUNDT1VOVC1LRVktTk9ULUEtUkVBTC1TRUNSRVQtMDAwMDAwMDAwMDAwMDAwMDAwMA==;EndpointSuffix=core.windows.net")
	if r := v.Check(context.Background(), key, false); r.Liveness != NotChecked {
		t.Errorf("account key: %+v", r)
	}
	if n := len(rec.requests()); n != 0 {
		t.Errorf("%d requests, want none", n)
	}
}

// TestCheckOnePerFingerprint: repeated and concurrent checks of one
// signature share one probe.
func TestCheckOnePerFingerprint(t *testing.T) {
	t.Parallel()
	rec := &recorder{reply: answer(403, "AuthorizationPermissionMismatch")}
	v := newTest(t, rec, Config{})
	in := "https://contosofp.blob.core.windows.net/c?sv=2022-11-02&sr=c&sp=rl&se=2029-01-01T00:00:00Z&sig=" + sig01
	// the same signature seen bare first: not probed, and not cached
	bare := mustParse(t, "sv=2022-11-02&sr=c&sp=rl&se=2029-01-01T00:00:00Z&sig="+sig01)
	if r := v.Check(context.Background(), bare, false); r.Liveness != NotChecked {
		t.Fatalf("bare: %+v", r)
	}
	tok := mustParse(t, in)
	var wg sync.WaitGroup
	results := make([]Result, 20)
	for i := range results {
		wg.Go(func() { results[i] = v.Check(context.Background(), tok, false) })
	}
	wg.Wait()
	for i := 0; i < 3; i++ {
		results = append(results, v.Check(context.Background(), tok, false))
	}
	for i, r := range results {
		if d := cmp.Diff(results[0], r); d != "" {
			t.Errorf("result %d differs (-first +this):\n%s", i, d)
		}
	}
	if results[0].Liveness != Live || results[0].ErrorCode != "AuthorizationPermissionMismatch" {
		t.Errorf("result %+v", results[0])
	}
	if n := len(rec.requests()); n != 1 {
		t.Errorf("%d requests for one fingerprint, want 1", n)
	}
	// another token: another probe
	other := mustParse(t, "https://contosofp.blob.core.windows.net/c?sv=2022-11-02&sr=c&sp=rl&se=2029-01-01T00:00:00Z&sig="+sig02)
	v.Check(context.Background(), other, false)
	if n := len(rec.requests()); n != 2 {
		t.Errorf("%d requests for two fingerprints, want 2", n)
	}
}

// TestCheckAnswers runs the response table end to end through Check.
func TestCheckAnswers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		in     string
		reply  func(*http.Request) *http.Response
		want   Result
		noBody bool
	}{
		{"200", "https://contosoa1.blob.core.windows.net/?sv=2022-11-02&ss=b&srt=sco&sp=rl&se=2029-01-01T00:00:00Z&sig=" + sig01,
			answer(200, ""), Result{Liveness: Live, Status: 200}, false},
		{"ip mismatch", "https://contosoa2.blob.core.windows.net/?sv=2022-11-02&ss=b&srt=sco&sp=rl&sip=198.51.100.7&se=2029-01-01T00:00:00Z&sig=" + sig01,
			answer(403, "AuthorizationSourceIPMismatch"), Result{Liveness: LiveIPRestricted, Status: 403, ErrorCode: "AuthorizationSourceIPMismatch"}, false},
		{"authentication failed on HEAD", "https://contosoa3.blob.core.windows.net/?sv=2022-11-02&ss=b&srt=sco&sp=rl&se=2029-01-01T00:00:00Z&sig=" + sig01,
			answer(403, "AuthenticationFailed"), Result{Liveness: RevokedOrInvalid, Status: 403, ErrorCode: "AuthenticationFailed", Detail: "authentication-failed"}, false},
		{"authentication failed minutes before expiry", "https://contosoa4.blob.core.windows.net/?sv=2022-11-02&ss=b&srt=sco&sp=rl&se=2026-09-01T00:05:00Z&sig=" + sig01,
			answer(403, "AuthenticationFailed"), Result{Liveness: Expired, Status: 403, ErrorCode: "AuthenticationFailed", Detail: "near-expiry"}, false},
		{"time frame in a GET body", "https://contosoa5.queue.core.windows.net/?sv=2022-11-02&ss=q&srt=s&sp=r&se=2029-01-01T00:00:00Z&sig=" + sig01,
			func(*http.Request) *http.Response {
				return &http.Response{StatusCode: 403, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(
					"<Error><Code>AuthenticationFailed</Code><AuthenticationErrorDetail>Signature not valid in the specified time frame</AuthenticationErrorDetail></Error>"))}
			}, Result{Liveness: Expired, Status: 403, ErrorCode: "AuthenticationFailed", Detail: authTime}, false},
		{"firewall", "https://contosoa6.blob.core.windows.net/?sv=2022-11-02&ss=b&srt=sco&sp=rl&se=2029-01-01T00:00:00Z&sig=" + sig01,
			answer(403, "AuthorizationFailure"), Result{Liveness: Unknown, Status: 403, ErrorCode: "AuthorizationFailure", Detail: "authorization-failure"}, false},
		{"shared key off", "https://contosoa7.blob.core.windows.net/?sv=2022-11-02&ss=b&srt=sco&sp=rl&se=2029-01-01T00:00:00Z&sig=" + sig01,
			answer(403, "KeyBasedAuthenticationNotPermitted"), Result{Liveness: Dormant, Status: 403, ErrorCode: "KeyBasedAuthenticationNotPermitted"}, false},
		{"blob gone", "https://contosoa8.blob.core.windows.net/c/gone.txt?sv=2022-11-02&sr=b&sp=r&se=2029-01-01T00:00:00Z&sig=" + sig01,
			answer(404, "BlobNotFound"), Result{Liveness: Live, Status: 404, ErrorCode: "BlobNotFound", Detail: "resource-missing"}, false},
		{"redirect not followed", "https://contosoa9.blob.core.windows.net/?sv=2022-11-02&ss=b&srt=sco&sp=rl&se=2029-01-01T00:00:00Z&sig=" + sig01,
			func(*http.Request) *http.Response {
				h := http.Header{}
				h.Set("Location", "https://evil.example.com/steal")
				return &http.Response{StatusCode: 302, Header: h, Body: http.NoBody}
			}, Result{Liveness: Unknown, Status: 302, Detail: "redirect-not-followed"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := &recorder{reply: tt.reply}
			v := newTest(t, rec, Config{})
			tok := mustParse(t, tt.in)
			got := v.Check(context.Background(), tok, false)
			got.Probe = ""
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("Check (-want +got):\n%s", d)
			}
			if n := len(rec.requests()); n != 1 {
				t.Errorf("%d requests, want exactly 1", n)
			}
			assertReadOnly(t, rec.requests(), "")
		})
	}
}

// TestCheckNetwork: DNS is faked, so nothing leaves the machine. An
// allow-listed name that resolves to a private or loopback address is never
// connected to; a name that does not resolve is account-gone.
func TestCheckNetwork(t *testing.T) {
	t.Parallel()
	in := "https://contosonet.blob.core.windows.net/?sv=2022-11-02&ss=b&srt=sco&sp=rl&se=2029-01-01T00:00:00Z&sig=" + sig01
	for _, tt := range []struct {
		name   string
		res    *fakeResolver
		want   Liveness
		detail string
	}{
		{"rebinding to loopback", &fakeResolver{addrs: addrs(t, "127.0.0.1")}, NotChecked, "refused-address"},
		{"private endpoint address", &fakeResolver{addrs: addrs(t, "10.0.0.4")}, NotChecked, "refused-address"},
		{"metadata service", &fakeResolver{addrs: addrs(t, "169.254.169.254")}, NotChecked, "refused-address"},
		{"ULA", &fakeResolver{addrs: addrs(t, "fd00::4")}, NotChecked, "refused-address"},
		{"NXDOMAIN", &fakeResolver{err: &net.DNSError{Err: "no such host", Name: "contosonet.blob.core.windows.net", IsNotFound: true}}, AccountGone, "dns-not-found"},
		{"SERVFAIL", &fakeResolver{err: &net.DNSError{Err: "server misbehaving", Name: "contosonet.blob.core.windows.net", IsTemporary: true}}, Unreachable, "connection-failed"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := newTest(t, nil, Config{resolver: tt.res})
			r := v.Check(context.Background(), mustParse(t, in), false)
			if r.Liveness != tt.want || r.Detail != tt.detail || r.Status != 0 {
				t.Errorf("Check = %+v, want %s (%s)", r, tt.want, tt.detail)
			}
			if tt.res.calls.Load() != 1 {
				t.Errorf("resolver calls = %d, want 1", tt.res.calls.Load())
			}
		})
	}
}

// TestGuard: the transport guard refuses any method but HEAD and GET, any
// body, any host outside the allow-list and plain http, before the network.
func TestGuard(t *testing.T) {
	t.Parallel()
	rec := &recorder{reply: answer(200, "")}
	g := &guard{next: rec}
	ep, _ := parseEndpoint("http://127.0.0.1:10000/devstoreaccount1")
	ge := &guard{next: rec, ep: ep}
	for _, tt := range []struct {
		g      *guard
		method string
		url    string
		body   string
		ok     bool
	}{
		{g, "HEAD", "https://contoso.blob.core.windows.net/?restype=account&comp=properties", "", true},
		{g, "GET", "https://contoso.queue.core.windows.net/?restype=service&comp=properties", "", true},
		{g, "POST", "https://contoso.blob.core.windows.net/", "", false},
		{g, "PUT", "https://contoso.blob.core.windows.net/c/b", "", false},
		{g, "DELETE", "https://contoso.blob.core.windows.net/c", "", false},
		{g, "PATCH", "https://contoso.dfs.core.windows.net/c", "", false},
		{g, "MERGE", "https://contoso.table.core.windows.net/t", "", false},
		{g, "OPTIONS", "https://contoso.blob.core.windows.net/", "", false},
		{g, "GET", "https://contoso.blob.core.windows.net/", "data", false},
		{g, "HEAD", "http://contoso.blob.core.windows.net/", "", false},
		{g, "HEAD", "https://evil.example.com/", "", false},
		{g, "HEAD", "https://127.0.0.1:10000/devstoreaccount1/", "", false},
		{g, "HEAD", "https://u:p@contoso.blob.core.windows.net/", "", false},
		{ge, "HEAD", "http://127.0.0.1:10000/devstoreaccount1/?restype=account&comp=properties", "", true},
		{ge, "HEAD", "http://127.0.0.1:10001/devstoreaccount1/", "", false},
		{ge, "HEAD", "https://contoso.blob.core.windows.net/", "", false},
		{ge, "DELETE", "http://127.0.0.1:10000/devstoreaccount1/c", "", false},
	} {
		var body io.Reader
		if tt.body != "" {
			body = strings.NewReader(tt.body)
		}
		req, err := http.NewRequest(tt.method, tt.url, body)
		if err != nil {
			t.Fatal(err)
		}
		before := len(rec.requests())
		_, err = tt.g.RoundTrip(req)
		sent := len(rec.requests()) > before
		if tt.ok && (err != nil || !sent) {
			t.Errorf("%s %s: refused (%v)", tt.method, tt.url, err)
		}
		if !tt.ok && (!errors.Is(err, errGuard) || sent) {
			t.Errorf("%s %s: passed the guard (err %v, sent %v)", tt.method, tt.url, err, sent)
		}
	}
}

// TestCheckRateLimit: five tokens of one account, three a minute: all five
// are probed (none dropped), the fourth after waiting its turn.
func TestCheckRateLimit(t *testing.T) {
	t.Parallel()
	rec := &recorder{reply: answer(200, "")}
	clk := &fakeClock{t: t0}
	v := newTest(t, rec, Config{clock: clk.now, sleep: clk.sleep})
	for i := range 5 {
		sig := []string{sig01, sig02, "U1lOVEhFVElDLVRFU1QtVkVDVE9SLVNJRy0wMDAwMDM%3D", "U1lOVEhFVElDLVRFU1QtVkVDVE9SLVNJRy0wMDAwMDQ%3D", "U1lOVEhFVElDLVRFU1QtVkVDVE9SLVNJRy0wMDAwMDU%3D"}[i]
		tok := mustParse(t, "https://contosorl.blob.core.windows.net/c"+fmt.Sprint(i)+"?sv=2022-11-02&sr=c&sp=rl&se=2029-01-01T00:00:00Z&sig="+sig)
		if r := v.Check(context.Background(), tok, false); r.Liveness != Live {
			t.Errorf("token %d: %+v", i, r)
		}
	}
	if n := len(rec.requests()); n != 5 {
		t.Errorf("%d requests, want 5", n)
	}
	if d := cmp.Diff([]time.Duration{time.Minute}, clk.slept); d != "" {
		t.Errorf("waits (-want +got):\n%s", d)
	}
}

// TestCheckCancelled: a cancelled wait sends nothing and caches nothing.
func TestCheckCancelled(t *testing.T) {
	t.Parallel()
	rec := &recorder{reply: answer(200, "")}
	clk := &fakeClock{t: t0, cancel: true}
	v := newTest(t, rec, Config{PerAccountPerMinute: 1, clock: clk.now, sleep: clk.sleep})
	a := mustParse(t, "https://contosocx.blob.core.windows.net/a?sv=2022-11-02&sr=c&sp=rl&se=2029-01-01T00:00:00Z&sig="+sig01)
	b := mustParse(t, "https://contosocx.blob.core.windows.net/b?sv=2022-11-02&sr=c&sp=rl&se=2029-01-01T00:00:00Z&sig="+sig02)
	if r := v.Check(context.Background(), a, false); r.Liveness != Live {
		t.Fatalf("a: %+v", r)
	}
	if r := v.Check(context.Background(), b, false); r.Liveness != NotChecked || r.Detail != "canceled" {
		t.Fatalf("b while waiting: %+v", r)
	}
	if n := len(rec.requests()); n != 1 {
		t.Fatalf("%d requests, want 1", n)
	}
	clk.mu.Lock()
	clk.cancel = false
	clk.mu.Unlock()
	if r := v.Check(context.Background(), b, false); r.Liveness != Live {
		t.Errorf("b again: %+v (a cancelled check must not be cached)", r)
	}
}

// TestNoSignatureLeaks: the signature is in no Result, log record or
// JSON output, in any encoding, whatever the answer.
func TestNoSignatureLeaks(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	const raw = "U1lOVEhFVElDLVRFU1QtVkVDVE9SLVNJRy0wMDAwMDE"
	for _, reply := range []func(*http.Request) *http.Response{
		answer(200, ""), answer(403, "AuthenticationFailed"), answer(403, raw), answer(302, ""),
		func(*http.Request) *http.Response { // a hostile server echoing the query
			return &http.Response{StatusCode: 400, Header: http.Header{"X-Ms-Error-Code": {"sig=" + sig01}},
				Body: io.NopCloser(strings.NewReader("<Error><Code>" + raw + "</Code><Message>" + sig01 + "</Message></Error>"))}
		},
	} {
		rec := &recorder{reply: reply}
		v := newTest(t, rec, Config{Logger: log})
		for _, in := range []string{
			"https://contosolk.blob.core.windows.net/c/b?sv=2022-11-02&sr=b&sp=r&se=2029-01-01T00:00:00Z&sig=" + sig01,
			"https://contosolk.queue.core.windows.net/?sv=2022-11-02&ss=q&srt=s&sp=r&se=2029-01-01T00:00:00Z&sig=" + sig01,
		} {
			tok := mustParse(t, in)
			r := v.Check(context.Background(), tok, false)
			js, _ := json.Marshal(r)
			for _, s := range []string{fmt.Sprintf("%+v", r), r.String(), string(js), r.Probe} {
				if strings.Contains(s, raw) || strings.Contains(s, "sig=U1") {
					t.Errorf("result holds the signature: %s", s)
				}
			}
			if !strings.Contains(r.Probe, "sig=REDACTED") {
				t.Errorf("probe %q is not redacted", r.Probe)
			}
		}
	}
	if !strings.Contains(logs.String(), "verify probe") {
		t.Fatal("no log records")
	}
	if strings.Contains(logs.String(), raw) {
		t.Errorf("logs hold the signature:\n%s", logs.String())
	}
}

func TestNewValidates(t *testing.T) {
	t.Parallel()
	for _, cfg := range []Config{
		{PerAccountPerMinute: -1},
		{Timeout: -time.Second},
		{Endpoint: "ftp://x/y"},
		{Endpoint: "http://u:p@127.0.0.1:10000/a"},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		} else if strings.Contains(err.Error(), "u:p") {
			t.Errorf("error repeats the endpoint's credentials: %v", err)
		}
	}
	if _, err := New(Config{}); err != nil {
		t.Errorf("New(zero Config): %v", err)
	}
}

// TestCheckEndpointServer runs whole probes over real loopback HTTP to an
// httptest server named by Config.Endpoint: a hanging server, oversized
// headers and a redirect to a second server.
func TestCheckEndpointServer(t *testing.T) {
	t.Parallel()
	var evilHits atomic.Int32
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { evilHits.Add(1) }))
	defer evil.Close()
	release := make(chan struct{})
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		switch r.URL.Query().Get("sp") {
		case "r": // hangs until the client gives up
			select {
			case <-r.Context().Done():
			case <-release:
			}
		case "rl": // 128 KiB of headers
			for i := range 128 {
				w.Header().Set(fmt.Sprintf("X-Junk-%d", i), strings.Repeat("x", 1024))
			}
			w.WriteHeader(200)
		case "rw": // a redirect to another server
			http.Redirect(w, r, evil.URL+"/steal?"+r.URL.RawQuery, http.StatusFound)
		}
	}))
	defer srv.Close()
	defer close(release)
	v := newTest(t, nil, Config{Endpoint: srv.URL + "/contosohttp", Timeout: 200 * time.Millisecond})
	for _, tt := range []struct {
		sp, sig string
		want    Liveness
		detail  string
	}{
		{"r", sig01, Unreachable, "timeout"},
		{"rl", sig02, Unreachable, "connection-failed"},
		{"rw", "U1lOVEhFVElDLVRFU1QtVkVDVE9SLVNJRy0wMDAwMDM%3D", Unknown, "redirect-not-followed"},
	} {
		tok := mustParse(t, "https://contosohttp.blob.core.windows.net/c?sv=2022-11-02&sr=c&sp="+tt.sp+"&se=2029-01-01T00:00:00Z&sig="+tt.sig)
		r := v.Check(context.Background(), tok, false)
		if r.Liveness != tt.want || r.Detail != tt.detail {
			t.Errorf("sp=%s: Check = %+v, want %s (%s)", tt.sp, r, tt.want, tt.detail)
		}
	}
	if n := hits.Load(); n != 3 {
		t.Errorf("endpoint got %d requests, want 3", n)
	}
	if n := evilHits.Load(); n != 0 {
		t.Errorf("the redirect target got %d requests, want 0", n)
	}
}

// TestCheckCancelledInFlight: the caller cancels while the probe waits for
// an answer: not-checked, and not cached, so a later Check probes again.
func TestCheckCancelledInFlight(t *testing.T) {
	t.Parallel()
	arrived := make(chan struct{}, 2)
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) == 1 {
			arrived <- struct{}{}
			<-r.Context().Done()
			return
		}
		w.WriteHeader(200)
	}))
	defer srv.Close()
	v := newTest(t, nil, Config{Endpoint: srv.URL + "/contosoinf"})
	tok := mustParse(t, "https://contosoinf.blob.core.windows.net/c?sv=2022-11-02&sr=c&sp=r&se=2029-01-01T00:00:00Z&sig="+sig01)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-arrived; cancel() }()
	if r := v.Check(ctx, tok, false); r.Liveness != NotChecked || r.Detail != "canceled" {
		t.Errorf("cancelled Check = %+v, want not-checked (canceled)", r)
	}
	if r := v.Check(context.Background(), tok, false); r.Liveness != Live {
		t.Errorf("second Check = %+v, want live", r)
	}
	if n := hits.Load(); n != 2 {
		t.Errorf("%d requests, want 2", n)
	}
}
