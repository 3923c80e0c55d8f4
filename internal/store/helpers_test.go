package store

import (
	"context"
	"fmt"
	"github.com/sasquatch-sec/sasquatch/internal/store/storetest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sasquatch-sec/sasquatch/detect"
	"github.com/sasquatch-sec/sasquatch/report"
)

// envPostgres names a PostgreSQL database the tests may create schemas in
// (.ci/postgres.sh prints it). Without it the PostgreSQL cases are skipped,
// unless CI is set: then they fail.
const envPostgres = "SASQUATCH_TEST_POSTGRES"

// backend is one driver under test. newDSN returns the DSN of a fresh, empty
// database: a file in t.TempDir(), or a new PostgreSQL schema dropped when
// the test ends.
type backend struct {
	name   string
	newDSN func(t *testing.T) string
}

var backends = []backend{
	{DriverSQLite, func(t *testing.T) string { return filepath.Join(t.TempDir(), "sasquatch.db") }},
	{DriverPostgres, newPostgresSchema},
}

// eachBackend runs fn as a subtest per driver.
func eachBackend(t *testing.T, fn func(t *testing.T, b backend)) {
	t.Helper()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			if b.name == DriverPostgres {
				postgresBase(t)
			}
			fn(t, b)
		})
	}
}

func postgresBase(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv(envPostgres)
	if dsn == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set and %s is not: the store's PostgreSQL tests must run in CI (eval \"$(.ci/postgres.sh)\")", envPostgres)
		}
		t.Skipf("%s is not set (eval \"$(.ci/postgres.sh)\" to run the PostgreSQL cases)", envPostgres)
	}
	return dsn
}

// newPostgresSchema returns a DSN on a schema of its own for one test.
func newPostgresSchema(t *testing.T) string { return storetest.PostgresDSN(t) }

// clock is a settable test clock.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }
func newClock() *clock                   { return &clock{time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)} }
func openTest(t *testing.T, cfg Config) *Store {
	t.Helper()
	s, err := OpenConfig(context.Background(), cfg)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// fakeSig returns a synthetic signature: base64 of 32 bytes that spell a test
// marker, never a real key's output.
func fakeSig(i int) string {
	return fmt.Sprintf("U1lOVEhFVElDLVRFU1QtU0lHTkFUVVJFLTAw%04dMDA=", i)
}

// fakeMatch returns a synthetic account SAS match; url says whether it was
// found as a whole URL.
func fakeMatch(i int, sev detect.Severity, withURL bool) detect.Match {
	sig := fakeSig(i)
	acct := fmt.Sprintf("fakeacct%d", i)
	host := acct + ".blob.core.windows.net"
	q := "sv=2022-11-02&ss=b&srt=sco&sp=rl&se=2030-01-01T00:00:00Z&sig=" + sig
	tok := detect.Token{
		Kind: detect.KindAccount, Account: acct, Host: host, Cloud: "public",
		Services: []string{"blob"}, ResourceTypes: []string{"service", "container", "object"},
		Permissions: []string{"read", "list"}, SP: "rl",
		Start:     time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC),
		Expiry:    time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC),
		Signature: detect.NewSecret(sig), Query: detect.NewSecret(q),
		Redacted: strings.Replace(q, sig, "REDACTED", 1),
	}
	if withURL {
		tok.URL = detect.NewSecret("https://" + host + "/?" + q)
	} else {
		tok.Host = ""
	}
	return detect.Match{Token: tok, Severity: sev, Reasons: []string{"account-sas", "fake"}, Fingerprint: detect.Fingerprint(sig)}
}

// fakeUDMatch returns a synthetic user delegation SAS scoped to one blob.
func fakeUDMatch(i int) detect.Match {
	sig := fakeSig(5000 + i)
	q := "sp=r&st=2026-08-31T00:00:00Z&se=2026-09-06T00:00:00Z&skoid=11111111-1111-1111-1111-111111111111" +
		"&sktid=22222222-2222-2222-2222-222222222222&skt=2026-08-31T00:00:00Z&ske=2026-09-06T00:00:00Z&sks=b" +
		"&skv=2022-11-02&sv=2022-11-02&sr=b&sig=" + sig
	host := "fakeud.blob.core.windows.net"
	tok := detect.Token{
		Kind: detect.KindUserDelegation, Account: "fakeud", Host: host, Cloud: "public",
		Services: []string{"blob"}, Resource: "/c1/b1.txt", Permissions: []string{"read"}, SP: "r",
		Start:     time.Date(2026, 8, 31, 0, 0, 0, 0, time.UTC),
		Expiry:    time.Date(2026, 9, 6, 0, 0, 0, 0, time.UTC),
		Signature: detect.NewSecret(sig), Query: detect.NewSecret(q),
		URL:      detect.NewSecret("https://" + host + "/c1/b1.txt?" + q),
		Redacted: strings.Replace(q, sig, "REDACTED", 1),
	}
	return detect.Match{Token: tok, Severity: detect.Low, Expired: true, Reasons: []string{"user-delegation"},
		Fingerprint: detect.Fingerprint(sig)}
}

func ptr[T any](v T) *T { return &v }

// histLoc returns a history location in repository repo.
func histLoc(repo, path string, line int, commit byte, atTip bool) report.Location {
	return report.Location{
		Path: path, Line: line, Column: 7, Repo: repo,
		Commit: strings.Repeat(string(commit), 40), Author: "Test Author <test@example.invalid>",
		Date:      ptr(time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)),
		AtTip:     ptr(atTip),
		Permalink: "https://github.invalid/" + repo + "/blob/" + strings.Repeat(string(commit), 40) + "/" + path + "#L1",
	}
}

// collect merges occurrences the way a direct scan does.
func collect(reveal bool, occ ...occurrence) []report.Finding {
	c := report.NewCollector(report.CollectorOptions{Reveal: reveal})
	for _, o := range occ {
		c.Add(o.loc, o.m)
	}
	return c.Findings()
}

type occurrence struct {
	m   detect.Match
	loc report.Location
}

// count returns the number of rows of a table.
func count(t *testing.T, s *Store, table string) int {
	t.Helper()
	var n int
	if err := s.DB().QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

// mustTx runs fn in a transaction and fails the test on error.
func mustTx(t *testing.T, s *Store, fn func(tx *Tx) error) {
	t.Helper()
	if err := s.InTx(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

func testRepo(id int64) Repo {
	return Repo{ID: id, FullName: fmt.Sprintf("fake-org/repo%d", id), Visibility: "private", Private: true,
		DefaultBranch: "main", CloneURL: fmt.Sprintf("https://github.invalid/fake-org/repo%d.git", id)}
}
