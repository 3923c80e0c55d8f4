package filing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sasquatch-sec/sasquatch/crawler/github"
	"github.com/sasquatch-sec/sasquatch/detect"
	"github.com/sasquatch-sec/sasquatch/internal/store"
	"github.com/sasquatch-sec/sasquatch/report"
)

// API is what filing needs from GitHub. *github.Client implements it; tests
// use fakes. Writes (CreateIssue, CreateComment, CreatePrivateReport and
// the POST inside EnsureLabel) must be sent at most once per call and
// return an error wrapping github.ErrUnknownOutcome when their outcome is
// unknown.
type API interface {
	RepoFacts(ctx context.Context, full string) (github.RepoFacts, error)
	PrivateReporting(ctx context.Context, full string) (bool, error)
	Login(ctx context.Context) (string, error)
	EnsureLabel(ctx context.Context, full string, l github.Label) error
	CreateIssue(ctx context.Context, full string, in github.NewIssue) (github.Issue, error)
	ListIssues(ctx context.Context, full string, q github.IssueQuery) ([]github.Issue, error)
	Issue(ctx context.Context, full string, number int) (github.Issue, error)
	CreateComment(ctx context.Context, full string, number int, body string) (github.Comment, error)
	ListComments(ctx context.Context, full string, number int) ([]github.Comment, error)
	CreatePrivateReport(ctx context.Context, full string, r github.PrivateReport) (github.Advisory, error)
	ListAdvisories(ctx context.Context, full string) ([]github.Advisory, error)
}

var _ API = (*github.Client)(nil)

// LabelName is the label every sasquatch issue carries; it is created (with
// [Label]'s colour and description) where missing.
const LabelName = "leaked-credential"

// Label is the label definition.
var Label = github.Label{Name: LabelName, Color: "b60205", Description: "A leaked credential found by sasquatch: revoke it"}

// trackerPVR is the store.Intent.Tracker value of a private vulnerability
// report in the affected repository (it cannot be an OWNER/NAME).
const trackerPVR = "private-vulnerability-report"

// DefaultSettle is the default Config.Settle.
const DefaultSettle = 10 * time.Minute

// Config configures [Run]. Store and API are required.
type Config struct {
	Store *store.Store
	API   API
	// Tracker is OWNER/NAME of a private or internal repository for the
	// issues of public repositories and of repositories that take none.
	Tracker string
	// MinSeverity is the lowest severity filed (--issue-severity; the CLI
	// default is medium).
	MinSeverity detect.Severity
	// Apply files for real; false is a dry run that writes nothing.
	Apply bool
	// Settle is how long after an attempt whose outcome is unknown a POST
	// may be sent again when listing does not show the issue (list
	// endpoints lag); default DefaultSettle.
	Settle time.Duration
	// Clock and Sleep pace writes and date the texts; tests inject both
	// (Sleep must advance Clock). Default time.Now and a timer sleep.
	Clock func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
	// Logger receives progress (default: discard).
	Logger *slog.Logger
}

// Outcome is what happened to one (repository, token).
type Outcome string

// Outcomes of an [Item].
const (
	WouldFile    Outcome = "would-file"    // dry run: an issue or report would be filed
	WouldComment Outcome = "would-comment" // dry run: the filed issue would get a comment
	WouldCheck   Outcome = "would-check"   // dry run: an earlier attempt would be reconciled
	Filed        Outcome = "filed"         // filed now
	Adopted      Outcome = "adopted"       // an earlier attempt's issue was found by listing
	Commented    Outcome = "commented"     // the filed issue got a comment (locations or liveness changed)
	Unchanged    Outcome = "unchanged"     // already filed, nothing new to say
	Pending      Outcome = "pending"       // outcome unknown: reconciled by a later run
	Failed       Outcome = "failed"        // not filed (routing, a refusal, ...); Detail says why
)

// Item is one (repository, token) and what happened to it.
type Item struct {
	Fingerprint string
	Severity    detect.Severity
	RepoID      int64
	Repo        string // the affected repository, OWNER/NAME
	Where       string // where it goes: "OWNER/NAME" or "OWNER/NAME (private vulnerability report)"; "" for none
	Why         string // why there
	Title       string
	Outcome     Outcome
	Number      int    // issue number, when filed
	URL         string // issue or advisory URL, when filed
	Detail      string // the failure or the note, scrubbed
}

// Result is the outcome of a [Run].
type Result struct {
	Items []Item
	// Problems are run-level notes (a label that could not be created,
	// locations without a repository).
	Problems []string
}

// Incomplete reports whether some (repository, token) is not filed or its
// outcome is unknown: coverage is incomplete (exit 3 with --strict).
func (r *Result) Incomplete() bool {
	return slices.ContainsFunc(r.Items, func(it Item) bool { return it.Outcome == Failed || it.Outcome == Pending })
}

// Count returns the number of items with outcome o.
func (r *Result) Count(o Outcome) int {
	n := 0
	for _, it := range r.Items {
		if it.Outcome == o {
			n++
		}
	}
	return n
}

// filer is one Run.
type filer struct {
	cfg     Config
	res     *Result
	pace    *pacer
	log     *slog.Logger
	facts   map[string]factsOrErr // OWNER/NAME as in locations -> facts
	pvr     map[string]boolOrErr  // OWNER/NAME -> accepts private reports
	labeled map[string]bool       // Destinations whose label was ensured
	login   *string               // the token's user, once asked ("" unknown)
	tracker github.RepoFacts      // Config.Tracker's facts
	known   map[int64]store.Repo  // repositories of the store, by ID
	missing map[int64]bool        // IDs not in the store
	now     func() time.Time
}

type factsOrErr struct {
	f   github.RepoFacts
	err error
}

type boolOrErr struct {
	ok  bool
	err error
}

// Run files (or, without Config.Apply, plans) the issues of the store's
// open findings. The error is fatal (the store, the tracker, ctx); what
// could not be filed is in the Result.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if cfg.Store == nil || cfg.API == nil {
		return nil, errors.New("filing: Config.Store and Config.API are required")
	}
	if cfg.Settle <= 0 {
		cfg.Settle = DefaultSettle
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Sleep == nil {
		cfg.Sleep = sleepCtx
	}
	f := &filer{
		cfg: cfg, res: &Result{}, pace: newPacer(cfg.Clock, cfg.Sleep), log: cfg.Logger,
		facts: map[string]factsOrErr{}, pvr: map[string]boolOrErr{}, labeled: map[string]bool{},
		known: map[int64]store.Repo{}, missing: map[int64]bool{}, now: cfg.Clock,
	}
	if f.log == nil {
		f.log = slog.New(slog.DiscardHandler)
	}
	if cfg.Tracker != "" {
		t, err := cfg.API.RepoFacts(ctx, cfg.Tracker)
		if err != nil {
			return nil, fmt.Errorf("filing: tracker %s: %w", cfg.Tracker, err)
		}
		switch {
		case t.Public():
			return nil, fmt.Errorf("filing: tracker %s is public: an issue there would advertise the tokens; use a private repository", cfg.Tracker)
		case t.Archived:
			return nil, fmt.Errorf("filing: tracker %s is archived", cfg.Tracker)
		case !t.HasIssues:
			return nil, fmt.Errorf("filing: tracker %s has issues disabled", cfg.Tracker)
		}
		f.tracker = t
		f.cfg.Tracker = t.FullName
	}
	findings, err := cfg.Store.Findings(ctx, store.Filter{MinSeverity: cfg.MinSeverity})
	if err != nil {
		return nil, fmt.Errorf("filing: %w", err)
	}
	noRepo := 0
	for _, fd := range findings {
		groups, n := f.group(ctx, fd)
		noRepo += n
		for _, g := range groups {
			if err := ctx.Err(); err != nil {
				return f.res, err
			}
			it, err := f.one(ctx, fd, g)
			if err != nil {
				return f.res, err
			}
			it.Detail = report.Scrub(it.Detail)
			f.res.Items = append(f.res.Items, it)
		}
	}
	if noRepo > 0 {
		f.problem(fmt.Sprintf("%d locations name no GitHub repository (not from a sweep): nothing to file for them", noRepo))
	}
	return f.res, nil
}

func (f *filer) problem(p string) {
	f.res.Problems = append(f.res.Problems, report.Scrub(p))
}

// group is one affected repository of a finding: its facts and the
// finding's locations there. err is set when the repository could not be
// resolved.
type group struct {
	name  string // OWNER/NAME as in the first location
	facts github.RepoFacts
	locs  []report.Location
	err   error
}

// group resolves the repositories of fd's locations and groups the
// locations by repository ID, in the order of the locations. It also
// returns the number of locations without a repository.
func (f *filer) group(ctx context.Context, fd report.Finding) ([]*group, int) {
	var out []*group
	byID := map[int64]*group{}
	byName := map[string]*group{}
	noRepo := 0
	for _, l := range fd.Locations {
		if l.Repo == "" {
			noRepo++
			continue
		}
		fe, ok := f.facts[l.Repo]
		if !ok {
			fe.f, fe.err = f.cfg.API.RepoFacts(ctx, l.Repo)
			if fe.f.FullName == "" {
				fe.f.FullName = l.Repo
			}
			f.facts[l.Repo] = fe
		}
		if fe.err != nil {
			g := byName[l.Repo]
			if g == nil {
				g = &group{name: l.Repo, err: fe.err}
				byName[l.Repo] = g
				out = append(out, g)
			}
			g.locs = append(g.locs, l)
			continue
		}
		g := byID[fe.f.ID]
		if g == nil {
			g = &group{name: l.Repo, facts: fe.f}
			byID[fe.f.ID] = g
			out = append(out, g)
		}
		g.locs = append(g.locs, l)
	}
	return out, noRepo
}

// Destination is where the issue of one (repository, token) goes.
type Destination struct {
	Repo     string // OWNER/NAME the POST goes to
	Advisory bool   // a private vulnerability report in Repo, not an issue
	Tracker  bool   // Repo is the tracker, not the affected repository
}

// String is "OWNER/NAME", or "OWNER/NAME (private vulnerability report)".
func (d Destination) String() string {
	if d.Advisory {
		return d.Repo + " (private vulnerability report)"
	}
	return d.Repo
}

// intentTracker is the store.Intent.Tracker value of d.
func (d Destination) intentTracker() string {
	switch {
	case d.Advisory:
		return trackerPVR
	case d.Tracker:
		return d.Repo
	}
	return ""
}

// destOf is the Destination recorded in an intent.
func destOf(in store.Intent, affected string) Destination {
	switch in.Tracker {
	case "":
		return Destination{Repo: affected}
	case trackerPVR:
		return Destination{Repo: affected, Advisory: true}
	}
	return Destination{Repo: in.Tracker, Tracker: true}
}

// Marker is the visible line that identifies the issue of (fingerprint,
// repository ID) when reconciling.
func Marker(fp string, repoID int64) string {
	return "sasquatch:fingerprint=" + fp + " repo=" + strconv.FormatInt(repoID, 10)
}

// one handles one (finding, repository).
func (f *filer) one(ctx context.Context, fd report.Finding, g *group) (Item, error) {
	it := Item{Fingerprint: fd.Fingerprint, Severity: fd.Severity, Repo: g.name, RepoID: g.facts.ID}
	if g.err != nil {
		it.Outcome, it.Detail = Failed, "repository "+g.name+": "+g.err.Error()
		return it, nil
	}
	if g.facts.FullName != "" {
		it.Repo = g.facts.FullName
	}
	if _, ok := f.known[g.facts.ID]; !ok && !f.missing[g.facts.ID] {
		r, err := f.cfg.Store.Repo(ctx, g.facts.ID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			f.missing[g.facts.ID] = true
		case err != nil:
			return it, err
		default:
			f.known[g.facts.ID] = r
		}
	}
	if f.missing[g.facts.ID] {
		it.Outcome, it.Detail = Failed, fmt.Sprintf("repository %s (ID %d) is not in the store: sweep it first", it.Repo, g.facts.ID)
		return it, nil
	}

	in, err := f.cfg.Store.Intent(ctx, fd.Fingerprint, g.facts.ID)
	if errors.Is(err, store.ErrNotFound) {
		d, why, ok, err := f.route(ctx, g.facts)
		if err != nil {
			return it, err
		}
		it.Why = why
		if !ok {
			it.Outcome, it.Detail = Failed, "not filed: "+why
			return it, nil
		}
		it.Where = d.String()
		it.Title = Title(fd, it.Repo, d.Tracker)
		if !f.cfg.Apply {
			it.Outcome = WouldFile
			return it, nil
		}
		in, err = f.cfg.Store.RecordIntent(ctx, store.Intent{
			Fingerprint: fd.Fingerprint, RepoID: g.facts.ID, Tracker: d.intentTracker(),
			Marker: Marker(fd.Fingerprint, g.facts.ID),
		})
		if err != nil {
			return it, err
		}
		return f.post(ctx, it, fd, g, in, d)
	}
	if err != nil {
		return it, err
	}

	d := destOf(in, it.Repo)
	it.Where, it.Title = d.String(), Title(fd, it.Repo, d.Tracker)
	switch in.State {
	case store.IntentFailed:
		it.Outcome, it.Detail = Failed, "recorded earlier: "+in.LastError
		return it, nil
	case store.IntentFiled:
		it.Why, it.Number, it.URL = "filed earlier", in.Number, in.URL
		return f.update(ctx, it, fd, g, in, d)
	}
	// Intended.
	it.Why = "recorded earlier"
	if in.Attempts == 0 {
		// Recorded, but no POST was begun (a crash in between): safe to send.
		if !f.cfg.Apply {
			it.Outcome = WouldFile
			return it, nil
		}
		return f.post(ctx, it, fd, g, in, d)
	}
	if !f.cfg.Apply {
		it.Outcome, it.Detail = WouldCheck, fmt.Sprintf("%d earlier attempts with an unknown outcome: would list %s to find the issue before sending again", in.Attempts, d)
		return it, nil
	}
	found, err := f.reconcile(ctx, in, d)
	if err != nil {
		it.Outcome, it.Detail = Pending, "could not check whether an earlier attempt was filed: "+err.Error()
		return it, nil
	}
	if found.url != "" {
		return f.adopt(ctx, it, in, found)
	}
	if d.Advisory {
		// Whether a reporter can list its own private reports is not
		// documented: not finding it proves nothing, so never send again.
		it.Outcome = Pending
		it.Detail = "a private vulnerability report was sent with an unknown outcome and cannot be found by listing; " +
			"check the repository's security advisories (sasquatch does not send it again)"
		return it, nil
	}
	if wait := in.UpdatedAt.Add(f.cfg.Settle).Sub(f.now()); wait > 0 {
		it.Outcome = Pending
		it.Detail = fmt.Sprintf("an attempt at %s has an unknown outcome and is not listed yet; the next run after %s checks again",
			in.UpdatedAt.UTC().Format(time.RFC3339), in.UpdatedAt.Add(f.cfg.Settle).UTC().Format(time.RFC3339))
		return it, nil
	}
	return f.post(ctx, it, fd, g, in, d)
}

// route decides where a new intent's issue goes; ok is false when nowhere.
func (f *filer) route(ctx context.Context, facts github.RepoFacts) (d Destination, why string, ok bool, err error) {
	pvr := func() (bool, error) {
		b, seen := f.pvr[facts.FullName]
		if !seen {
			b.ok, b.err = f.cfg.API.PrivateReporting(ctx, facts.FullName)
			f.pvr[facts.FullName] = b
		}
		return b.ok, b.err
	}
	return Route(facts, f.cfg.Tracker, pvr)
}

// Route is the routing table of package filing (see the package
// documentation): where the issue of a token in the repository described by
// facts goes, given the tracker (OWNER/NAME or "") and, for public
// repositories without a tracker, whether the repository accepts private
// vulnerability reports (asked only then). ok is false when it goes nowhere;
// why says why in every case.
func Route(facts github.RepoFacts, tracker string, privateReporting func() (bool, error)) (d Destination, why string, ok bool, err error) {
	vis := facts.Visibility
	if vis == "" {
		vis = "private"
		if facts.Public() {
			vis = "public"
		}
	}
	toTracker := func(reason string) (Destination, string, bool, error) {
		if tracker == "" {
			return Destination{}, reason + " and no --tracker is set", false, nil
		}
		return Destination{Repo: tracker, Tracker: true}, reason + ": the tracker", true, nil
	}
	switch {
	case facts.Archived:
		return toTracker(vis + " repository is archived")
	case facts.Disabled:
		return toTracker(vis + " repository is disabled")
	case !facts.HasIssues:
		return toTracker(vis + " repository has issues disabled")
	case !facts.Public():
		return Destination{Repo: facts.FullName}, vis + " repository", true, nil
	case tracker != "":
		return Destination{Repo: tracker, Tracker: true}, "public repository: the tracker, not a public issue", true, nil
	}
	if privateReporting != nil {
		on, err := privateReporting()
		if err != nil {
			return Destination{}, "public repository: could not tell whether it accepts private vulnerability reports: " + err.Error(), false, nil
		}
		if on {
			return Destination{Repo: facts.FullName, Advisory: true}, "public repository that accepts private vulnerability reports", true, nil
		}
	}
	return Destination{}, "public repository (a public issue would advertise the token), no --tracker and no private vulnerability reporting", false, nil
}

// post sends the issue (or report) of intent in: BeginAttempt, then one
// paced POST. The outcome is recorded in the store before returning.
func (f *filer) post(ctx context.Context, it Item, fd report.Finding, g *group, in store.Intent, d Destination) (Item, error) {
	if !d.Advisory && !f.labeled[d.Repo] {
		f.labeled[d.Repo] = true
		if err := f.pace.wait(ctx); err != nil {
			return it, err
		}
		if err := f.cfg.API.EnsureLabel(ctx, d.Repo, Label); err != nil {
			f.problem(fmt.Sprintf("label %s in %s: %v (issues are filed without it)", LabelName, d.Repo, err))
		}
	}
	body := Body(fd, BodyInput{Repo: it.Repo, RepoID: g.facts.ID, Locations: g.locs, Now: f.now(), Tracker: d.Tracker})
	if err := checkNoSecret(fd, it.Title, body); err != nil {
		it.Outcome, it.Detail = Failed, err.Error()
		if merr := f.cfg.Store.MarkFailed(ctx, fd.Fingerprint, g.facts.ID, it.Detail); merr != nil {
			return it, merr
		}
		return it, nil
	}
	if err := f.pace.wait(ctx); err != nil {
		return it, err
	}
	begun, err := f.cfg.Store.BeginAttempt(ctx, fd.Fingerprint, g.facts.ID)
	if err != nil {
		return it, err
	}
	if begun.Attempts != in.Attempts+1 {
		// Another process began an attempt at the same time: it sends.
		it.Outcome, it.Detail = Pending, "another sasquatch process is filing this issue"
		return it, nil
	}
	var number int
	var url string
	if d.Advisory {
		var a github.Advisory
		a, err = f.cfg.API.CreatePrivateReport(ctx, d.Repo, github.PrivateReport{
			Summary: it.Title, Description: body, Severity: advisorySeverity(fd.Severity), CWEs: []string{"CWE-798"},
		})
		url = a.URL
	} else {
		var iss github.Issue
		iss, err = f.cfg.API.CreateIssue(ctx, d.Repo, github.NewIssue{Title: it.Title, Body: body, Labels: []string{LabelName}})
		number, url = iss.Number, iss.URL
	}
	// Record the outcome even when ctx ended during the POST.
	sctx := context.WithoutCancel(ctx)
	switch {
	case err == nil:
		if err := f.cfg.Store.MarkFiled(sctx, fd.Fingerprint, g.facts.ID, number, url); err != nil {
			return it, err
		}
		it.Outcome, it.Number, it.URL = Filed, number, url
		f.log.Info("filed", "repo", it.Repo, "where", it.Where, "number", number)
		return it, nil
	case github.Definitive(err):
		it.Outcome, it.Detail = Failed, err.Error()
		if err := f.cfg.Store.MarkFailed(sctx, fd.Fingerprint, g.facts.ID, it.Detail); err != nil {
			return it, err
		}
		return it, nil
	}
	// Unknown outcome: never re-POST; list to find out.
	if err := f.cfg.Store.MarkUnknown(sctx, fd.Fingerprint, g.facts.ID, err.Error()); err != nil {
		return it, err
	}
	if ctx.Err() != nil {
		return it, ctx.Err()
	}
	in, gerr := f.cfg.Store.Intent(ctx, fd.Fingerprint, g.facts.ID)
	if gerr != nil {
		return it, gerr
	}
	found, rerr := f.reconcile(ctx, in, d)
	if rerr == nil && found.url != "" {
		it, err := f.adopt(ctx, it, in, found)
		it.Detail = "the reply was lost; found by listing"
		return it, err
	}
	it.Outcome = Pending
	it.Detail = "outcome unknown (" + err.Error() + "); not sent again: a later run lists " + d.String() + " before sending"
	return it, nil
}

// found is an issue or report found by reconciliation.
type found struct {
	number int
	url    string
}

// reconcile looks for the issue (or report) of intent in at d.
func (f *filer) reconcile(ctx context.Context, in store.Intent, d Destination) (found, error) {
	if d.Advisory {
		as, err := f.cfg.API.ListAdvisories(ctx, d.Repo)
		if err != nil {
			return found{}, err
		}
		for _, a := range as {
			if hasLine(a.Description, in.Marker) {
				return found{url: a.URL}, nil
			}
		}
		return found{}, nil
	}
	login := f.whoami(ctx)
	since := in.CreatedAt.Add(-5 * time.Minute)
	// With the label first; then without it, in case the label could not be
	// set (no permission to create it).
	for _, label := range []string{LabelName, ""} {
		if label == "" && login == "" {
			break // an unfiltered listing of a busy tracker: not worth it
		}
		iss, err := f.cfg.API.ListIssues(ctx, d.Repo, github.IssueQuery{Label: label, Creator: login, Since: since})
		if err != nil {
			return found{}, err
		}
		var hits []github.Issue
		for _, i := range iss {
			if hasLine(i.Body, in.Marker) && (login == "" || strings.EqualFold(i.User, login)) {
				hits = append(hits, i)
			}
		}
		if len(hits) > 0 {
			slices.SortFunc(hits, func(a, b github.Issue) int { return a.Number - b.Number })
			if len(hits) > 1 {
				f.problem(fmt.Sprintf("%s: %d issues carry the marker %q; adopted #%d", d.Repo, len(hits), in.Marker, hits[0].Number))
			}
			return found{number: hits[0].Number, url: hits[0].URL}, nil
		}
	}
	return found{}, nil
}

// adopt records an issue found by reconciliation as the intent's.
func (f *filer) adopt(ctx context.Context, it Item, in store.Intent, fo found) (Item, error) {
	if err := f.cfg.Store.MarkFiled(context.WithoutCancel(ctx), in.Fingerprint, in.RepoID, fo.number, fo.url); err != nil {
		return it, err
	}
	it.Outcome, it.Number, it.URL = Adopted, fo.number, fo.url
	return it, nil
}

// whoami returns the token's login, asked once; "" when unknown.
func (f *filer) whoami(ctx context.Context) string {
	if f.login == nil {
		l, err := f.cfg.API.Login(ctx)
		if err != nil {
			f.log.Info("no user login for the token; listing issues by label only", "error", err)
			l = ""
		}
		f.login = &l
	}
	return *f.login
}

// update comments on a filed issue when its state line is out of date.
func (f *filer) update(ctx context.Context, it Item, fd report.Finding, g *group, in store.Intent, d Destination) (Item, error) {
	it.Outcome = Unchanged
	if d.Advisory {
		it.Detail = "a private vulnerability report: not updated through the API"
		return it, nil
	}
	if !d.Tracker && g.facts.Public() {
		it.Detail = "the repository is public now: not commenting on its issue"
		f.problem(fmt.Sprintf("%s is public now; its issue #%d was filed while it was private: check it", it.Repo, in.Number))
		return it, nil
	}
	state := StateHash(g.locs, fd.Liveness)
	last, err := f.lastState(ctx, d.Repo, in.Number)
	if err != nil {
		it.Outcome, it.Detail = Failed, "could not read the filed issue: "+err.Error()
		return it, nil
	}
	if last == state {
		return it, nil
	}
	if !f.cfg.Apply {
		it.Outcome, it.Detail = WouldComment, "locations or liveness changed since the last update"
		return it, nil
	}
	body := CommentBody(fd, BodyInput{Repo: it.Repo, RepoID: g.facts.ID, Locations: g.locs, Now: f.now(), Tracker: d.Tracker})
	if err := checkNoSecret(fd, "", body); err != nil {
		it.Outcome, it.Detail = Failed, err.Error()
		return it, nil
	}
	if err := f.pace.wait(ctx); err != nil {
		return it, err
	}
	if _, err := f.cfg.API.CreateComment(ctx, d.Repo, in.Number, body); err != nil {
		if github.Definitive(err) {
			it.Outcome, it.Detail = Failed, "comment: "+err.Error()
		} else {
			it.Outcome, it.Detail = Pending, "comment outcome unknown ("+err.Error()+"); the next run reads the comments before commenting again"
		}
		return it, nil
	}
	it.Outcome = Commented
	return it, nil
}

// lastState returns the last state line of the issue: in its body, then in
// its comments (oldest first; only the token's user's when known).
func (f *filer) lastState(ctx context.Context, repo string, number int) (string, error) {
	iss, err := f.cfg.API.Issue(ctx, repo, number)
	if err != nil {
		return "", err
	}
	last := stateOf(iss.Body)
	cs, err := f.cfg.API.ListComments(ctx, repo, number)
	if err != nil {
		return "", err
	}
	login := f.whoami(ctx)
	for _, c := range cs {
		if login != "" && !strings.EqualFold(c.User, login) {
			continue
		}
		if s := stateOf(c.Body); s != "" {
			last = s
		}
	}
	return last, nil
}

func advisorySeverity(s detect.Severity) string {
	switch {
	case s >= detect.Critical:
		return "critical"
	case s >= detect.High:
		return "high"
	case s >= detect.Medium:
		return "medium"
	}
	return "low"
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
