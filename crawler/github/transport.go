package github

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gofri/go-github-ratelimit/v2/github_ratelimit"
	"github.com/gofri/go-github-ratelimit/v2/github_ratelimit/github_primary_ratelimit"
	"github.com/gofri/go-github-ratelimit/v2/github_ratelimit/github_secondary_ratelimit"
	"golang.org/x/oauth2"
)

// Retry bounds. Waits use Config.Sleep, so tests do not really wait.
const (
	maxTransientRetries  = 4                // 5xx and transport errors on GET/HEAD
	maxPrimaryWaits      = 3                // primary rate-limit waits per request
	maxSecondaryWaits    = 5                // secondary rate-limit waits per request
	secondaryBackoff     = 60 * time.Second // first wait without Retry-After, doubled each time
	maxRateLimitWait     = 65 * time.Minute // cap on one wait (a primary window is one hour)
	transientBackoff     = time.Second      // first 5xx backoff, doubled each time
	maxErrorBodyRead     = 64 << 10
	maxRedirects         = 3
	apiRequestTimeout    = 2 * time.Minute
	responseHeaderTimout = time.Minute
)

// ctxKey is the type of this package's context keys.
type ctxKey int

const (
	keyListing       ctxKey = iota // request is a listing page: return 502 to the caller (it halves per_page)
	keySecondaryHint               // *secondaryHint filled by the secondary limiter's callback
)

// secondaryHint carries the reset time the secondary limiter parsed
// (Retry-After or X-RateLimit-Reset) back to retryTransport.
type secondaryHint struct {
	mu    sync.Mutex
	reset time.Time
}

// stats counts API calls and rate-limit waiting; safe for concurrent use.
type stats struct {
	apiCalls  atomic.Int64
	waitNanos atomic.Int64
}

// gate makes every request wait while a rate limit is in force. The total
// wait is the union of the limit windows (wall time the sweep was held), not
// the sum over goroutines.
type gate struct {
	mu    sync.Mutex
	until time.Time
}

// canonicalHost returns the lower-case host[:port] of u without a default port.
func canonicalHost(u *url.URL) string {
	h := strings.ToLower(u.Host)
	switch {
	case u.Scheme == "https" && strings.HasSuffix(h, ":443"):
		h = strings.TrimSuffix(h, ":443")
	case u.Scheme == "http" && strings.HasSuffix(h, ":80"):
		h = strings.TrimSuffix(h, ":80")
	}
	return h
}

// authTransport attaches the token only to requests for allowed hosts over
// the allowed scheme, strips any Authorization header elsewhere, and counts
// requests to the API host.
//
// The header itself is set by golang.org/x/oauth2 (a static token source);
// oauth2.Transport alone would send it to every host a request or redirect
// reaches, hence the host guard around it.
type authTransport struct {
	base    http.RoundTripper
	token   Token
	scheme  string          // "https", or "http" when the API URL is http
	allowed map[string]bool // canonical hosts that may receive the token
	apiHost string
	stats   *stats

	withToken http.RoundTripper // oauth2.Transport over base, built on first use
	once      sync.Once
}

func (t *authTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	host := canonicalHost(req.URL)
	if host == t.apiHost {
		t.stats.apiCalls.Add(1)
	}
	send := !t.token.IsZero() && t.allowed[host] && req.URL.Scheme == t.scheme
	if !send {
		if req.Header.Get("Authorization") != "" {
			req = req.Clone(req.Context())
			req.Header.Del("Authorization")
		}
	}
	next := t.base
	if send {
		t.once.Do(func() {
			t.withToken = &oauth2.Transport{
				Source: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: t.token.v, TokenType: "Bearer"}),
				Base:   t.base,
			}
		})
		next = t.withToken
	}
	resp, err := next.RoundTrip(req)
	if err == nil {
		sanitizeLimitResponse(resp)
	}
	return resp, err
}

// sanitizeLimitResponse protects go-github-ratelimit from hostile 403/429
// responses: it reads error bodies whole (bound them) and re-sends at once,
// recursively, when a secondary limit's X-RateLimit-Reset is already past
// (drop that header; retryTransport then backs off from 60 s).
func sanitizeLimitResponse(resp *http.Response) {
	if resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusTooManyRequests {
		return
	}
	if resp.Body != nil {
		resp.Body = struct {
			io.Reader
			io.Closer
		}{io.LimitReader(resp.Body, maxErrorBodyRead), resp.Body}
	}
	if resp.Header.Get("X-RateLimit-Remaining") == "0" {
		return
	}
	if s, err := strconv.Atoi(strings.TrimSpace(resp.Header.Get("Retry-After"))); err == nil && s > 0 {
		return
	}
	if reset := parseEpoch(resp.Header.Get("X-RateLimit-Reset")); !reset.After(time.Now()) {
		resp.Header.Del("X-RateLimit-Reset")
	}
}

// retryTransport waits out rate limits detected by go-github-ratelimit (and
// by a fallback check of the same headers), and retries idempotent requests
// on 5xx and transport errors with bounded exponential backoff. Requests
// other than GET and HEAD are sent once.
type retryTransport struct {
	base           http.RoundTripper // the go-github-ratelimit stack over authTransport
	c              *Client
	attemptTimeout time.Duration // per attempt, body included; 0: none (tarball streams)
}

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		if err := t.c.waitGate(ctx); err != nil {
			return nil, err
		}
		return t.base.RoundTrip(req)
	}
	listing, _ := ctx.Value(keyListing).(bool)
	var transient, primary, secondary int
	// Each attempt has its own timeout (API requests only), released when
	// the caller closes the body or when the attempt is abandoned.
	cancel, keep := context.CancelFunc(func() {}), false
	defer func() {
		if !keep {
			cancel()
		}
	}()
	for {
		cancel()
		if err := t.c.waitGate(ctx); err != nil {
			return nil, err
		}
		var actx context.Context
		actx, cancel = withOptionalTimeout(ctx, t.attemptTimeout)
		hint := &secondaryHint{}
		r := req.WithContext(context.WithValue(actx, keySecondaryHint, hint))
		resp, err := t.base.RoundTrip(r)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if actx.Err() != nil && transient < maxTransientRetries {
				if err := t.c.backoff(ctx, transient, req.URL.Path, "timeout"); err != nil {
					return nil, err
				}
				transient++
				continue
			}
			if rl, ok := errors.AsType[*github_primary_ratelimit.RateLimitReachedError](err); ok {
				if primary >= maxPrimaryWaits {
					return nil, fmt.Errorf("primary rate limit still exceeded after %d waits", primary)
				}
				primary++
				var reset time.Time
				if rl.ResetTime != nil {
					reset = *rl.ResetTime
				}
				if err := t.c.waitPrimary(ctx, reset, req.URL.Path); err != nil {
					return nil, err
				}
				continue
			}
			if transient < maxTransientRetries && isTransient(err) {
				if err := t.c.backoff(ctx, transient, req.URL.Path, "transport error"); err != nil {
					return nil, err
				}
				transient++
				continue
			}
			return nil, err
		}
		// Fallback for a primary limit the library did not classify (no
		// X-RateLimit-Resource header, unknown category).
		if (resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusTooManyRequests) &&
			resp.Header.Get("X-RateLimit-Remaining") == "0" && primary < maxPrimaryWaits {
			primary++
			reset := parseEpoch(resp.Header.Get("X-RateLimit-Reset"))
			drain(resp)
			if err := t.c.waitPrimary(ctx, reset, req.URL.Path); err != nil {
				return nil, err
			}
			continue
		}
		if isSecondary(resp) && secondary < maxSecondaryWaits {
			hint.mu.Lock()
			reset := hint.reset
			hint.mu.Unlock()
			var d time.Duration
			if !reset.IsZero() {
				d = time.Until(reset) // the library computes reset from the real clock
			} else if ra := resp.Header.Get("Retry-After"); ra != "" {
				if s, err := strconv.Atoi(strings.TrimSpace(ra)); err == nil && s > 0 {
					d = time.Duration(s) * time.Second
				}
			}
			if d <= 0 {
				d = secondaryBackoff << secondary
			}
			secondary++
			drain(resp)
			if err := t.c.waitLimit(ctx, d, "secondary", req.URL.Path); err != nil {
				return nil, err
			}
			continue
		}
		if resp.StatusCode >= 500 && resp.StatusCode != http.StatusNotImplemented &&
			!(listing && resp.StatusCode == http.StatusBadGateway) && transient < maxTransientRetries {
			drain(resp)
			if err := t.c.backoff(ctx, transient, req.URL.Path, resp.Status); err != nil {
				return nil, err
			}
			transient++
			continue
		}
		keep = true
		resp.Body = &cancelBody{ReadCloser: resp.Body, cancel: cancel}
		return resp, nil
	}
}

// withOptionalTimeout is context.WithTimeout, or ctx itself when d <= 0.
func withOptionalTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, d)
}

// cancelBody releases an attempt's context when the body is closed.
type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// isSecondary reports whether resp is a secondary rate limit (403/429 with
// GitHub's message or documentation URL). The body is restored.
func isSecondary(resp *http.Response) bool {
	if resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusTooManyRequests {
		return false
	}
	if resp.Header.Get("X-RateLimit-Remaining") == "0" {
		return false
	}
	if resp.Body == nil {
		return false
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBodyRead))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	var body github_secondary_ratelimit.SecondaryRateLimitBody
	if json.Unmarshal(b, &body) != nil {
		return resp.StatusCode == http.StatusTooManyRequests && resp.Header.Get("Retry-After") != ""
	}
	return body.IsSecondaryRateLimit() ||
		strings.Contains(strings.ToLower(body.Message), "secondary rate limit") ||
		(resp.StatusCode == http.StatusTooManyRequests && resp.Header.Get("Retry-After") != "")
}

// isTransient reports whether a transport error is worth retrying.
func isTransient(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNABORTED) {
		return true
	}
	if _, ok := errors.AsType[net.Error](err); ok {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "connection reset") || strings.Contains(msg, "EOF") ||
		strings.Contains(msg, "broken pipe")
}

func parseEpoch(s string) time.Time {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n <= 0 {
		return time.Time{}
	}
	return time.Unix(n, 0)
}

// drain discards (a bounded part of) a response body and closes it.
func drain(resp *http.Response) {
	if resp == nil || resp.Body == nil {
		return
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBodyRead))
	resp.Body.Close()
}

// waitGate sleeps while a rate limit window (set by any goroutine) is open.
func (c *Client) waitGate(ctx context.Context) error {
	c.gate.mu.Lock()
	d := c.gate.until.Sub(c.now())
	c.gate.mu.Unlock()
	if d <= 0 {
		return ctx.Err()
	}
	return c.sleep(ctx, d)
}

// waitPrimary waits until reset (epoch from X-RateLimit-Reset) plus a second.
func (c *Client) waitPrimary(ctx context.Context, reset time.Time, path string) error {
	d := time.Second
	if !reset.IsZero() {
		d = reset.Sub(c.now()) + time.Second
	}
	return c.waitLimit(ctx, d, "primary", path)
}

// waitLimit opens (or extends) the rate-limit window for everyone, records
// the added wall time and sleeps.
func (c *Client) waitLimit(ctx context.Context, d time.Duration, kind, path string) error {
	d = min(max(d, time.Second), maxRateLimitWait)
	now := c.now()
	until := now.Add(d)
	c.gate.mu.Lock()
	from := c.gate.until
	if from.Before(now) {
		from = now
	}
	if until.After(from) {
		c.stats.waitNanos.Add(int64(until.Sub(from)))
		c.gate.until = until
	}
	c.gate.mu.Unlock()
	c.log.Warn("github rate limit, waiting", "kind", kind, "wait", d.Round(time.Second).String(), "path", path)
	return c.sleep(ctx, d)
}

// backoff sleeps before retry number n (0-based): 1 s, 2 s, 4 s, ... plus jitter.
func (c *Client) backoff(ctx context.Context, n int, what, why string) error {
	d := transientBackoff << n
	d += rand.N(d/4 + 1)
	c.log.Debug("github retry", "what", what, "reason", why, "attempt", n+1, "wait", d.Round(time.Millisecond).String())
	return c.sleep(ctx, d)
}

// newAPITransport builds the request stacks for the API client and for
// archive downloads (no per-attempt timeout):
// retryTransport -> go-github-ratelimit (secondary over primary) -> authTransport -> base.
func (c *Client) newAPITransport(base http.RoundTripper, auth *authTransport) (api, archive http.RoundTripper) {
	auth.base = base
	rl := github_ratelimit.New(auth,
		// Never block inside the library (it sleeps on the real clock):
		// retryTransport waits with Config.Sleep and the shared gate.
		github_primary_ratelimit.WithBypassLimit(),
		github_secondary_ratelimit.WithSingleSleepLimit(0, func(cc *github_secondary_ratelimit.CallbackContext) {
			if cc.Request == nil || cc.ResetTime == nil {
				return
			}
			if h, ok := cc.Request.Context().Value(keySecondaryHint).(*secondaryHint); ok {
				h.mu.Lock()
				h.reset = *cc.ResetTime
				h.mu.Unlock()
			}
		}),
	)
	return &retryTransport{base: rl, c: c, attemptTimeout: apiRequestTimeout}, &retryTransport{base: rl, c: c}
}

// defaultBaseTransport is a clone of http.DefaultTransport with bounded
// header wait.
func defaultBaseTransport() http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.ResponseHeaderTimeout = responseHeaderTimout
	return t
}

// sameHostRedirect refuses redirects to another host or scheme and stops
// after maxRedirects hops (the API client's CheckRedirect).
func sameHostRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= maxRedirects {
		return fmt.Errorf("stopped after %d redirects", maxRedirects)
	}
	first := via[0].URL
	if req.URL.Scheme != first.Scheme || canonicalHost(req.URL) != canonicalHost(first) {
		return fmt.Errorf("refusing redirect from %s to another host %s", canonicalHost(first), canonicalHost(req.URL))
	}
	return nil
}
