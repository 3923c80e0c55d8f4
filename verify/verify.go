package verify

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/sasquatch-sec/sasquatch/detect"
)

// Liveness is what a probe found out about a token (JSONL field "liveness").
type Liveness string

// The liveness values. Only Live and LiveIPRestricted say the token works.
const (
	Live             Liveness = "live"               // accepted: 2xx, an Authorization*Mismatch, or the resource is gone
	LiveIPRestricted Liveness = "live-ip-restricted" // accepted, but its sip range excludes us
	Expired          Liveness = "expired"            // past its expiry: locally, with no request, or by the service
	RevokedOrInvalid Liveness = "revoked-or-invalid" // signature rejected: key rotated, policy removed, or altered
	Dormant          Liveness = "dormant"            // Shared Key disabled on the account; re-enabling revives it
	AccountGone      Liveness = "account-gone"       // the account's name does not resolve
	Unreachable      Liveness = "unreachable"        // no answer: connection refused, timeout, TLS failure
	Unknown          Liveness = "unknown"            // an answer that proves neither way (AuthorizationFailure, 5xx, ...)
	NotChecked       Liveness = "not-checked"        // no request was sent (see Result.Detail)
)

// IsLive reports whether l says the token works.
func (l Liveness) IsLive() bool { return l == Live || l == LiveIPRestricted }

// Result is the outcome of one [Verifier.Check]. It never holds the
// signature: Probe is redacted and nothing of a response body is kept.
type Result struct {
	Liveness  Liveness `json:"liveness"`
	ErrorCode string   `json:"error_code,omitempty"` // Azure's x-ms-error-code, sanitised
	Status    int      `json:"status,omitempty"`     // HTTP status; 0 when no response
	// Probe is the request that was sent, or would have been, as
	// "METHOD URL" with sig=REDACTED; "" when no probe could be built.
	Probe string `json:"probe,omitempty"`
	// Detail is a short fixed word saying why: for not-checked, why nothing
	// was sent (no-endpoint, host-not-allowed, expired-locally, refused-address,
	// ...); otherwise what the answer meant (operation-not-permitted,
	// resource-missing, authorization-failure, signature-mismatch, timeout, ...).
	// Never text from the server.
	Detail string `json:"detail,omitempty"`
}

// Config configures a [Verifier]. The zero value is valid: probes go only to
// allow-listed Azure Storage hosts, 3 per account per minute, 10 s each.
type Config struct {
	// Endpoint, when set, sends every probe to this base URL instead of the
	// token's host: scheme://host[:port]/ACCOUNT, as an emulator's path-style
	// URLs are (http://127.0.0.1:10000/devstoreaccount1), or a private
	// endpoint's URL. The probe is the base, plus the token's container and
	// blob path, plus the probe's query. It is the only way to reach a
	// non-Azure, loopback or private address, and only tokens of the account
	// it names are sent there; New refuses a base that names no account
	// (--verify-endpoint).
	Endpoint string
	// PerAccountPerMinute caps probes per storage account in any rolling
	// minute; probes over it wait for their turn, none is dropped. Default 3.
	PerAccountPerMinute int
	// Timeout bounds one probe, connecting included. Default 10 s.
	Timeout time.Duration
	// Now is the clock that decides whether a token is past its expiry
	// (--now). Default time.Now. The rate limiter uses the real clock.
	Now func() time.Time
	// Logger, when set, gets one Debug record per probe (redacted).
	Logger *slog.Logger

	// Test seams, settable only inside the package.
	resolver  resolver                                         // DNS; default net.DefaultResolver
	transport func(http.RoundTripper) http.RoundTripper        // wraps the guarded transport
	clock     func() time.Time                                 // the rate limiter's clock
	sleep     func(ctx context.Context, d time.Duration) error // the rate limiter's sleep
}

// Verifier runs liveness probes. It is safe for concurrent use. It probes a
// token at most once (by fingerprint) over its lifetime: make one per run.
type Verifier struct {
	ep      *endpoint
	now     func() time.Time
	timeout time.Duration
	client  *http.Client
	limit   *limiter
	log     *slog.Logger

	mu    sync.Mutex
	cache map[string]*entry // by detect.Fingerprint of the signature
}

type entry struct {
	done chan struct{}
	res  Result
}

// User-Agent of every probe.
const userAgent = "sasquatch-verify/1 (read-only SAS liveness check; +https://github.com/sasquatch-sec/sasquatch)"

// maxSkew is the clock skew Azure tolerates either way (sas-spec §4.1).
const maxSkew = 15 * time.Minute

// New validates cfg and returns a Verifier.
func New(cfg Config) (*Verifier, error) {
	if cfg.PerAccountPerMinute < 0 || cfg.Timeout < 0 {
		return nil, errors.New("verify: PerAccountPerMinute and Timeout must not be negative")
	}
	if cfg.PerAccountPerMinute == 0 {
		cfg.PerAccountPerMinute = 3
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	v := &Verifier{now: cfg.Now, timeout: cfg.Timeout, log: cfg.Logger, cache: make(map[string]*entry)}
	if cfg.Endpoint != "" {
		ep, err := parseEndpoint(cfg.Endpoint)
		if err != nil {
			return nil, err
		}
		v.ep = ep
	}
	d := newDialer(cfg.resolver, v.ep != nil, min(cfg.Timeout, 5*time.Second))
	tr := &http.Transport{
		Proxy:                  nil, // never: a proxy would see the URL, and the IP check would judge the proxy
		DialContext:            d.DialContext,
		TLSClientConfig:        &tls.Config{MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:    min(cfg.Timeout, 5*time.Second),
		ResponseHeaderTimeout:  cfg.Timeout,
		MaxResponseHeaderBytes: 64 << 10,
		DisableCompression:     true,
		MaxIdleConnsPerHost:    1,
		IdleConnTimeout:        30 * time.Second,
	}
	var rt http.RoundTripper = &guard{next: tr, ep: v.ep}
	if cfg.transport != nil {
		rt = &guard{next: cfg.transport(tr), ep: v.ep}
	}
	v.client = &http.Client{
		Transport: rt,
		Timeout:   cfg.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse // never follow: the 3xx is the answer
		},
	}
	v.limit = newLimiter(cfg.PerAccountPerMinute, cfg.clock, cfg.sleep)
	return v, nil
}

// guard is the last check before a request leaves: HEAD or GET only, and
// only to an allow-listed storage host over https (or to the endpoint).
// It holds whatever the probe builder does.
type guard struct {
	next http.RoundTripper
	ep   *endpoint
}

var errGuard = errors.New("verify: request refused by the guard")

func (g *guard) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodHead && req.Method != http.MethodGet || req.Body != nil && req.Body != http.NoBody {
		return nil, errGuard
	}
	u := req.URL
	if u.User != nil {
		return nil, errGuard
	}
	if g.ep != nil {
		if u.Scheme != g.ep.base.Scheme || u.Host != g.ep.base.Host {
			return nil, errGuard
		}
	} else if _, ok := parseStorageHost(u.Host); !ok || u.Scheme != "https" {
		return nil, errGuard
	}
	return g.next.RoundTrip(req)
}

// Check finds out whether tok still works, with at most one read-only
// request (sas-spec §6), and returns what it found; it never returns an
// error and never panics on a hostile token or answer. expired is the
// match's Expired flag: a token past its expiry, by that flag or by
// Config.Now, is Expired with no request at all. A token whose host is not
// an allow-listed storage host (and no Endpoint is set) is NotChecked with
// no request. Results of probes are cached by fingerprint: a second Check of
// the same signature returns the first result without a request; concurrent
// Checks of one signature share one probe. Check waits for the per-account
// rate limit; a done ctx ends the wait with NotChecked (not cached).
func (v *Verifier) Check(ctx context.Context, tok detect.Token, expired bool) Result {
	now := v.now()
	if tok.Kind == detect.KindAccountKey {
		return Result{Liveness: NotChecked, Detail: errAccountKey.Error()}
	}
	if expired || !tok.Expiry.IsZero() && !now.Before(tok.Expiry) {
		return Result{Liveness: Expired, Detail: "expired-locally"}
	}
	p, err := buildProbe(tok, v.ep)
	if err != nil {
		return Result{Liveness: NotChecked, Detail: err.Error()}
	}
	probeText := p.method + " " + redactedURL(p.url)
	if !tok.Start.IsZero() && tok.Start.After(now.Add(maxSkew)) {
		return Result{Liveness: NotChecked, Detail: "not-yet-valid", Probe: probeText}
	}

	fp := detect.Fingerprint(tok.Signature.Reveal())
	for {
		v.mu.Lock()
		e, ok := v.cache[fp]
		if !ok {
			e = &entry{done: make(chan struct{})}
			v.cache[fp] = e
			v.mu.Unlock()
			res := v.run(ctx, tok, p, probeText, now)
			v.mu.Lock()
			if res.Detail == "canceled" {
				delete(v.cache, fp) // nothing was learnt: a later Check may probe it
			} else {
				e.res = res
			}
			v.mu.Unlock()
			close(e.done)
			return res
		}
		v.mu.Unlock()
		select {
		case <-e.done:
			if e.res.Liveness != "" {
				return e.res
			}
			// the Check that owned the probe was cancelled: try again
		case <-ctx.Done():
			return Result{Liveness: NotChecked, Detail: "canceled", Probe: probeText}
		}
	}
}

// run waits for the rate limit, sends the probe and classifies the answer.
func (v *Verifier) run(ctx context.Context, tok detect.Token, p *probe, probeText string, now time.Time) (res Result) {
	res = Result{Probe: probeText}
	if err := v.limit.wait(ctx, p.account); err != nil {
		res.Liveness, res.Detail = NotChecked, "canceled"
		return res
	}
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, v.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, p.method, p.url.String(), http.NoBody)
	if err != nil {
		res.Liveness, res.Detail = NotChecked, "bad-request-url"
		return res
	}
	req.Header.Set("User-Agent", userAgent)
	for k, val := range p.header {
		req.Header.Set(k, val)
	}
	defer func() {
		if v.log != nil {
			v.log.LogAttrs(ctx, slog.LevelDebug, "verify probe", slog.String("probe", res.Probe),
				slog.String("liveness", string(res.Liveness)), slog.Int("status", res.Status),
				slog.String("code", res.ErrorCode), slog.String("detail", res.Detail))
		}
	}()
	resp, err := v.client.Do(req)
	if err != nil {
		res.Liveness, res.Detail = v.netVerdict(parent, ctx, err)
		return res
	}
	defer resp.Body.Close()
	code, auth := errorCode(resp, tok.Signature.Reveal())
	res.Status, res.ErrorCode = resp.StatusCode, code
	res.Liveness, res.Detail = verdict(resp.StatusCode, code, auth)
	if res.Liveness == RevokedOrInvalid && res.Detail == "authentication-failed" {
		// A HEAD answer has no AuthenticationErrorDetail. The token is not
		// expired by our clock; near its expiry or start, the service's
		// clock may disagree with ours.
		switch {
		case !tok.Expiry.IsZero() && tok.Expiry.Before(now.Add(maxSkew)):
			res.Liveness, res.Detail = Expired, "near-expiry"
		case !tok.Start.IsZero() && tok.Start.After(now.Add(-maxSkew)):
			res.Liveness, res.Detail = Unknown, "near-start"
		}
	}
	return res
}

// netVerdict classifies a request that got no response. parent is the
// caller's context, ctx the probe's (parent plus the probe timeout).
func (v *Verifier) netVerdict(parent, ctx context.Context, err error) (Liveness, string) {
	var dnsErr *net.DNSError
	switch {
	case parent.Err() != nil:
		return NotChecked, "canceled" // the caller gave up: nothing learnt, not cached
	case errors.Is(err, errRefusedAddress):
		return NotChecked, "refused-address"
	case errors.Is(err, errGuard):
		return NotChecked, "refused-by-guard"
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		if v.ep != nil {
			return Unreachable, "endpoint-not-found"
		}
		return AccountGone, "dns-not-found"
	case ctx.Err() != nil, isTimeout(err):
		return Unreachable, "timeout"
	}
	return Unreachable, "connection-failed"
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// String returns "liveness" or "liveness (code)", for text output.
func (r Result) String() string {
	if r.ErrorCode != "" {
		return fmt.Sprintf("%s (%s)", r.Liveness, r.ErrorCode)
	}
	return string(r.Liveness)
}
