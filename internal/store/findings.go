package store

import (
	"cmp"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sasquatch-sec/sasquatch/detect"
	"github.com/sasquatch-sec/sasquatch/report"
)

// findingCols are the columns written from a report.Finding, in the order of
// findingRow.args.
const findingCols = `severity, kind, account, host, cloud, services, resource_types, resource, container,
	permissions, sp, start_at, expiry, expired, reasons, redacted, sk_hint, secret_signature, secret_query, secret_url`

// findingSet is findingCols as "severity = ?, kind = ?, ...".
var findingSet = func() string {
	cols := strings.Split(findingCols, ",")
	for i, c := range cols {
		cols[i] = strings.TrimSpace(c) + " = ?"
	}
	return strings.Join(cols, ", ")
}()

// findingRow is a report.Finding as stored.
type findingRow struct {
	fp       string
	severity detect.Severity
	host     string
	url      string
	redacted string
	args     []any // the values of findingCols
}

func (t *Tx) newFindingRow(f *report.Finding) (findingRow, error) {
	d := t.s.d
	cred := f.Credential
	fp := f.Fingerprint
	if fp == "" {
		if cred.Signature.IsZero() {
			return findingRow{}, errors.New("store: a finding with neither fingerprint nor signature")
		}
		fp = detect.Fingerprint(cred.Signature.Reveal())
	}
	query, url := cred.Query.Reveal(), cred.URL.Reveal()
	if query == "" {
		query = f.Token // a finding read back from --reveal JSONL
	}
	if url == "" {
		url = f.URL
	}
	js := func(s []string) string {
		if s == nil {
			s = []string{}
		}
		b, _ := json.Marshal(s) // []string always marshals
		return string(b)
	}
	return findingRow{
		fp:       fp,
		severity: f.Severity,
		host:     f.Host,
		url:      url,
		redacted: f.Redacted,
		args: []any{
			int(f.Severity), enc(string(f.Kind)), enc(f.Account), enc(f.Host), enc(f.Cloud), js(f.Services),
			js(f.ResourceTypes), enc(f.Resource), enc(containerOf(f.Resource)), js(f.Permissions), enc(f.SP),
			d.tp(f.Start), d.tp(f.Expiry), f.Expired, js(f.Reasons), enc(f.Redacted), enc(signingKeyHint(cred)),
			enc(cred.Signature.Reveal()), enc(query), enc(url),
		},
	}, nil
}

// better reports whether the new occurrence should name the finding instead
// of the stored one: report.Collector's order (highest severity, then one
// with a host, then one with a URL, then the smallest redacted form), so the
// stored finding does not depend on the order of scans.
func (r findingRow) better(sev detect.Severity, host, url, redacted string) bool {
	if r.severity != sev {
		return r.severity > sev
	}
	if a, b := r.host != "", host != ""; a != b {
		return a
	}
	if a, b := r.url != "", url != ""; a != b {
		return a
	}
	return r.redacted < redacted
}

// AddFindings records the findings of one scan of repository repoID (0 when
// the scan was not of a GitHub repository; otherwise the repository must have
// been recorded with UpsertRepo) in run runID, with their locations.
//
// It is idempotent: adding the same findings again adds no finding and no
// location; first_seen and first_seen_run stay, last_seen moves to now. A
// finding already stored keeps the fields of the most informative occurrence
// (report.Collector's rule). Locations are de-duplicated by (repository,
// commit, path, line, message), as report.Collector does; an existing
// location's at_tip and permalink are updated. Past Config.MaxLocations per
// finding, locations are counted, not kept.
//
// It returns, sorted, the fingerprints among findings whose first run is
// runID: the tokens new in this run (a second call in the same run returns
// them again; a call in a later run does not).
func (t *Tx) AddFindings(ctx context.Context, runID, repoID int64, findings []report.Finding) ([]string, error) {
	c := t.c()
	public := sql.NullBool{}
	if repoID != 0 {
		r, err := getRepo(ctx, c, repoID)
		if err != nil {
			return nil, fmt.Errorf("add findings: %w", err)
		}
		public = sql.NullBool{Bool: r.public(), Valid: true}
	}
	rows := make([]findingRow, len(findings))
	for i := range findings {
		var err error
		if rows[i], err = t.newFindingRow(&findings[i]); err != nil {
			return nil, err
		}
	}
	// One lock order for every transaction: fewer PostgreSQL deadlocks.
	order := make([]int, len(findings))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(rows[a].fp, rows[b].fp) })

	var fresh []string
	for _, i := range order {
		isNew, err := t.addFinding(ctx, runID, repoID, public, rows[i], &findings[i])
		if err != nil {
			return nil, fmt.Errorf("store: add finding %s: %w", rows[i].fp, err)
		}
		if isNew && (len(fresh) == 0 || fresh[len(fresh)-1] != rows[i].fp) {
			fresh = append(fresh, rows[i].fp)
		}
	}
	return fresh, nil
}

func (t *Tx) addFinding(ctx context.Context, runID, repoID int64, public sql.NullBool, row findingRow, f *report.Finding) (firstInRun bool, err error) {
	c, d := t.c(), t.s.d
	stamp := d.t(t.s.stamp())
	args := append([]any{row.fp}, row.args...)
	args = append(args, stamp, stamp, runID, runID)
	var got string
	err = c.row(ctx, `INSERT INTO findings (fingerprint, `+findingCols+`, first_seen, last_seen, first_seen_run, last_seen_run)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (fingerprint) DO NOTHING RETURNING fingerprint`, args...).Scan(&got)
	inserted := err == nil
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return false, err
	}
	var (
		firstRun, lastRun, locCount, overflow int64
	)
	if inserted {
		firstRun, lastRun = runID, runID
	} else {
		var sev int
		var host, url, redacted string
		err := c.row(ctx, `SELECT severity, host, secret_url, redacted, first_seen_run, last_seen_run, loc_count, overflow_count
			FROM findings WHERE fingerprint = ?`+d.forUpdate, row.fp).
			Scan(&sev, &host, &url, &redacted, &firstRun, &lastRun, &locCount, &overflow)
		if err != nil {
			return false, err
		}
		decAll(&host, &url, &redacted)
		if row.better(detect.Severity(sev), host, url, redacted) {
			if _, err := c.exec(ctx, `UPDATE findings SET `+findingSet+` WHERE fingerprint = ?`, append(row.args, row.fp)...); err != nil {
				return false, err
			}
		}
	}

	// The kept locations of the finding (at most Config.MaxLocations), read
	// once: adding known locations again costs one query, not one per location.
	type kept struct {
		atTip     sql.NullBool
		permalink string
	}
	have := map[string]kept{}
	if !inserted && len(f.Locations) > 0 {
		rows, err := c.query(ctx, `SELECT loc_key, at_tip, permalink FROM locations WHERE fingerprint = ?`, row.fp)
		if err != nil {
			return false, err
		}
		for rows.Next() {
			var key string
			var k kept
			if err := rows.Scan(&key, &k.atTip, &k.permalink); err != nil {
				rows.Close()
				return false, err
			}
			k.permalink = dec(k.permalink)
			have[key] = k
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return false, err
		}
	}
	for _, loc := range f.Locations {
		key := locationKey(repoID, loc)
		cur := kept{nullBool(loc.AtTip), loc.Permalink}
		old, known := have[key]
		switch {
		case known:
			if old == cur {
				continue
			}
			// The token left the tip (or came back), or GitHub's permalink changed.
			if _, err := c.exec(ctx, `UPDATE locations SET at_tip = ?, permalink = ? WHERE fingerprint = ? AND loc_key = ?`,
				cur.atTip, enc(cur.permalink), row.fp, key); err != nil {
				return false, err
			}
		case locCount < int64(t.s.maxLocs):
			if _, err := c.exec(ctx, `INSERT INTO locations (fingerprint, loc_key, repo_id, repo, path, line, col, commit_sha,
				author, commit_date, at_tip, message, blob, permalink, repo_public, run_id, first_seen)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				row.fp, key, repoID, enc(loc.Repo), enc(loc.Path), loc.Line, loc.Column, enc(loc.Commit), enc(loc.Author),
				d.tp(loc.Date), cur.atTip, loc.Message, enc(loc.Blob), enc(loc.Permalink), public, runID, stamp); err != nil {
				return false, err
			}
			locCount++
		case overflow < maxOverflowKeys:
			res, err := c.exec(ctx, `INSERT INTO location_overflow (fingerprint, loc_key) VALUES (?, ?)
				ON CONFLICT (fingerprint, loc_key) DO NOTHING`, row.fp, key)
			if err != nil {
				return false, err
			}
			if n, err := res.RowsAffected(); err != nil {
				return false, err
			} else if n > 0 {
				overflow++
			}
			continue // not kept: not in have
		default:
			overflow++ // an upper bound from here on
			continue
		}
		have[key] = cur
	}

	if f.LocationsTruncated > 0 {
		if _, err := c.exec(ctx, `INSERT INTO finding_truncations (fingerprint, repo_id, run_id, dropped) VALUES (?, ?, ?, ?)
			ON CONFLICT (fingerprint, repo_id, run_id) DO UPDATE SET dropped = CASE
				WHEN excluded.dropped > finding_truncations.dropped THEN excluded.dropped ELSE finding_truncations.dropped END`,
			row.fp, repoID, runID, f.LocationsTruncated); err != nil {
			return false, err
		}
	}

	set := `last_seen = ?, last_seen_run = ?, loc_count = ?, overflow_count = ?`
	upd := []any{stamp, max(lastRun, runID), locCount, overflow}
	if f.Liveness != "" {
		set += `, liveness = ?, liveness_code = '', liveness_checked_at = ?`
		upd = append(upd, enc(f.Liveness), stamp)
	}
	if _, err := c.exec(ctx, `UPDATE findings SET `+set+` WHERE fingerprint = ?`, append(upd, row.fp)...); err != nil {
		return false, err
	}
	return firstRun == runID, nil
}

// locationKey is the de-duplication key of a location: report.Collector's
// (repository, commit, path, line, message), with the repository named by its
// ID when there is one (a rename does not duplicate locations).
func locationKey(repoID int64, l report.Location) string {
	h := sha256.New()
	repo := strconv.FormatInt(repoID, 10)
	if repoID == 0 {
		repo = "name:" + l.Repo
	}
	for _, s := range []string{repo, l.Commit, l.Path, strconv.Itoa(l.Line), strconv.FormatBool(l.Message)} {
		h.Write([]byte(strconv.Itoa(len(s))))
		h.Write([]byte{':'})
		h.Write([]byte(s))
	}
	return hex.EncodeToString(h.Sum(nil))
}

func nullBool(b *bool) sql.NullBool {
	if b == nil {
		return sql.NullBool{}
	}
	return sql.NullBool{Bool: *b, Valid: true}
}

// containerOf returns the container, share, queue or table a resource names
// ("/container/blob" -> "container", "table orders" -> "orders"); "" for an
// account-wide token.
func containerOf(resource string) string {
	if name, ok := strings.CutPrefix(resource, "table "); ok {
		return name
	}
	if rest, ok := strings.CutPrefix(resource, "/"); ok {
		name, _, _ := strings.Cut(rest, "/")
		return name
	}
	return ""
}

// signingKeyHint names the key a token was signed with, as far as the token
// says, for lineage ("was it renewed with the same key?"): the user delegation
// key ("skoid=…;sktid=…;skt=…;ske=…") or the stored access policy ("si=…");
// "" for tokens signed with an account key (key1 or key2: unknowable). No
// part of it is secret.
func signingKeyHint(t detect.Token) string {
	if t.Kind == detect.KindAccountKey {
		return ""
	}
	q := t.Query.Reveal()
	if i := strings.IndexByte(q, '?'); i >= 0 {
		q = q[i+1:]
	}
	params := map[string]string{}
	for kv := range strings.SplitSeq(q, "&") {
		k, v, _ := strings.Cut(kv, "=")
		k = strings.ToLower(strings.TrimSpace(k))
		if k != "sig" {
			params[k] = v
		}
	}
	var hint string
	switch {
	case t.Kind == detect.KindUserDelegation:
		hint = "skoid=" + params["skoid"] + ";sktid=" + params["sktid"] + ";skt=" + params["skt"] + ";ske=" + params["ske"]
	case params["si"] != "":
		hint = "si=" + params["si"]
	}
	if len(hint) > 512 {
		hint = hint[:512]
	}
	return hint
}

// Filter selects findings for [Store.Findings]. The zero value selects every
// open finding of every severity, redacted.
type Filter struct {
	// IncludeTriaged also returns findings triaged as ignored.
	IncludeTriaged bool
	// MinSeverity drops findings below it.
	MinSeverity detect.Severity
	// RunID, when not 0, returns only the findings first seen in that run.
	RunID int64
	// Reveal fills report.Finding.Token and URL (--reveal).
	Reveal bool
}

func (f Filter) where() (string, []any) {
	w := `f.severity >= ?`
	args := []any{int(f.MinSeverity)}
	if !f.IncludeTriaged {
		w += ` AND NOT EXISTS (SELECT 1 FROM triage t WHERE t.fingerprint = f.fingerprint AND t.state = '` + string(TriageIgnored) + `')`
	}
	if f.RunID != 0 {
		w += ` AND f.first_seen_run = ?`
		args = append(args, f.RunID)
	}
	return w, args
}

// Findings returns the findings selected by filter as report.Finding values
// with the same fields and locations as a direct scan (locations sorted as
// report sorts them; findings by severity, then fingerprint) and Credential
// filled. Times have microsecond precision.
func (s *Store) Findings(ctx context.Context, filter Filter) (out []report.Finding, err error) {
	err = s.read(ctx, func(c conn) error {
		out, err = findings(ctx, c, filter)
		return err
	})
	return out, err
}

func findings(ctx context.Context, c conn, filter Filter) ([]report.Finding, error) {
	where, args := filter.where()
	rows, err := c.query(ctx, `SELECT f.fingerprint, `+findingCols+`, f.liveness, f.overflow_count
		FROM findings f WHERE `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("store: findings: %w", err)
	}
	var out []report.Finding
	index := map[string]int{}
	err = func() error {
		defer rows.Close()
		for rows.Next() {
			var (
				f                                report.Finding
				sev                              int
				kind, container, skHint          string
				services, rtypes, perms, reasons string
				start, expiry                    nullTime
				sig, query, url                  string
				overflow                         int64
			)
			if err := rows.Scan(&f.Fingerprint, &sev, &kind, &f.Account, &f.Host, &f.Cloud, &services, &rtypes,
				&f.Resource, &container, &perms, &f.SP, &start, &expiry, &f.Expired, &reasons, &f.Redacted, &skHint,
				&sig, &query, &url, &f.Liveness, &overflow); err != nil {
				return err
			}
			decAll(&kind, &f.Account, &f.Host, &f.Cloud, &f.Resource, &f.SP, &f.Redacted, &sig, &query, &url, &f.Liveness)
			f.Severity, f.Kind = detect.Severity(sev), detect.Kind(kind)
			for _, p := range []struct {
				dst *[]string
				src string
			}{{&f.Services, services}, {&f.ResourceTypes, rtypes}, {&f.Permissions, perms}, {&f.Reasons, reasons}} {
				if err := json.Unmarshal([]byte(p.src), p.dst); err != nil {
					return fmt.Errorf("finding %s: %w", f.Fingerprint, err)
				}
				if *p.dst == nil {
					*p.dst = []string{}
				}
			}
			f.Start, f.Expiry = start.ptr(), expiry.ptr()
			f.LocationsTruncated = int(overflow)
			f.Locations = []report.Location{}
			f.Credential = detect.Token{
				Kind: f.Kind, Account: f.Account, Host: f.Host, Cloud: f.Cloud,
				Services: slices.Clone(f.Services), ResourceTypes: slices.Clone(f.ResourceTypes),
				Resource: f.Resource, Permissions: slices.Clone(f.Permissions), SP: f.SP,
				Start: start.Time, Expiry: expiry.Time,
				Signature: detect.NewSecret(sig), Query: detect.NewSecret(query), URL: detect.NewSecret(url),
				Redacted: f.Redacted,
			}
			if filter.Reveal {
				f.Token, f.URL = query, url
			}
			index[f.Fingerprint] = len(out)
			out = append(out, f)
		}
		return rows.Err()
	}()
	if err != nil {
		return nil, fmt.Errorf("store: findings: %w", err)
	}
	if len(out) == 0 {
		return []report.Finding{}, nil
	}
	sub := `SELECT f.fingerprint FROM findings f WHERE ` + where
	if err := loadLocations(ctx, c, sub, args, out, index); err != nil {
		return nil, fmt.Errorf("store: locations: %w", err)
	}
	trows, err := c.query(ctx, `SELECT fingerprint, SUM(dropped) FROM finding_truncations
		WHERE fingerprint IN (`+sub+`) GROUP BY fingerprint`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: truncations: %w", err)
	}
	defer trows.Close()
	for trows.Next() {
		var fp string
		var n int64
		if err := trows.Scan(&fp, &n); err != nil {
			return nil, fmt.Errorf("store: truncations: %w", err)
		}
		if i, ok := index[fp]; ok {
			out[i].LocationsTruncated += int(n)
		}
	}
	if err := trows.Err(); err != nil {
		return nil, fmt.Errorf("store: truncations: %w", err)
	}
	for i := range out {
		slices.SortFunc(out[i].Locations, report.CompareLocations)
	}
	report.SortFindings(out)
	return out, nil
}

func loadLocations(ctx context.Context, c conn, sub string, args []any, out []report.Finding, index map[string]int) error {
	rows, err := c.query(ctx, `SELECT fingerprint, repo, path, line, col, commit_sha, author, commit_date, at_tip,
		message, blob, permalink FROM locations WHERE fingerprint IN (`+sub+`)`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			fp    string
			l     report.Location
			date  nullTime
			atTip sql.NullBool
		)
		if err := rows.Scan(&fp, &l.Repo, &l.Path, &l.Line, &l.Column, &l.Commit, &l.Author, &date, &atTip,
			&l.Message, &l.Blob, &l.Permalink); err != nil {
			return err
		}
		decAll(&l.Repo, &l.Path, &l.Commit, &l.Author, &l.Blob, &l.Permalink)
		if !utf8.ValidString(l.Path) {
			l.PathBytes = []byte(l.Path) // as a scan's output has it
		}
		l.Date = date.ptr()
		if atTip.Valid {
			b := atTip.Bool
			l.AtTip = &b
		}
		if i, ok := index[fp]; ok {
			out[i].Locations = append(out[i].Locations, l)
		}
	}
	return rows.Err()
}

// FindingSeen returns when finding fp was first and last seen, or
// [ErrNotFound].
func (s *Store) FindingSeen(ctx context.Context, fp string) (first, last Stamp, err error) {
	var f, l nullTime
	err = s.c().row(ctx, `SELECT first_seen, first_seen_run, last_seen, last_seen_run FROM findings WHERE fingerprint = ?`, fp).
		Scan(&f, &first.Run, &l, &last.Run)
	if errors.Is(err, sql.ErrNoRows) {
		return Stamp{}, Stamp{}, fmt.Errorf("finding %s: %w", fp, ErrNotFound)
	}
	if err != nil {
		return Stamp{}, Stamp{}, fmt.Errorf("store: finding %s: %w", fp, err)
	}
	first.At, last.At = f.Time, l.Time
	return first, last, nil
}

// Stamp is a time and the run it belongs to.
type Stamp struct {
	At  time.Time
	Run int64
}

// CountFindings returns how many findings filter selects (progress lines:
// "findings so far"), without loading them.
func (s *Store) CountFindings(ctx context.Context, filter Filter) (int, error) {
	where, args := filter.where()
	var n int
	if err := s.c().row(ctx, `SELECT COUNT(*) FROM findings f WHERE `+where, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count findings: %w", err)
	}
	return n, nil
}
