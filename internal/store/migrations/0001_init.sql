-- The first schema of the sweep store. One file for both drivers: {{ID}} and
-- {{TIME}} are replaced by the dialect (dialect.go); everything else is the
-- SQL both SQLite and PostgreSQL accept. Times are UTC, microsecond precision.
-- JSON columns are TEXT holding a JSON array of strings.

-- Repositories by GitHub ID (a rename keeps the row).
CREATE TABLE repositories (
	id             BIGINT PRIMARY KEY,
	full_name      TEXT    NOT NULL,
	private        BOOLEAN NOT NULL DEFAULT FALSE,
	visibility     TEXT    NOT NULL DEFAULT '',
	default_branch TEXT    NOT NULL DEFAULT '',
	clone_url      TEXT    NOT NULL DEFAULT '',
	archived       BOOLEAN NOT NULL DEFAULT FALSE,
	first_seen     {{TIME}} NOT NULL,
	last_seen      {{TIME}} NOT NULL
);
CREATE INDEX repositories_full_name ON repositories (full_name);

-- The ref tips of the last complete scan of a repository, replaced as a whole
-- (Tx.SetTips). No unique index on ref: a hostile ref name may be longer than
-- a PostgreSQL index entry; SetTips writes each ref once.
CREATE TABLE ref_tips (
	repo_id BIGINT NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
	ref     TEXT   NOT NULL,
	sha     TEXT   NOT NULL
);
CREATE INDEX ref_tips_repo ON ref_tips (repo_id);

-- Scan runs (a sweep of a target, or one scan).
CREATE TABLE runs (
	id          {{ID}},
	target      TEXT    NOT NULL,
	started_at  {{TIME}} NOT NULL,
	finished_at {{TIME}},
	complete    BOOLEAN NOT NULL DEFAULT FALSE,
	counts      TEXT    NOT NULL DEFAULT '{}'
);

-- One row per unique token (fingerprint). The descriptive columns are those
-- of report.Finding; the secret_* columns hold the token itself.
CREATE TABLE findings (
	fingerprint         TEXT    PRIMARY KEY,
	severity            INTEGER NOT NULL,
	kind                TEXT    NOT NULL,
	account             TEXT    NOT NULL DEFAULT '',
	host                TEXT    NOT NULL DEFAULT '',
	cloud               TEXT    NOT NULL DEFAULT '',
	services            TEXT    NOT NULL DEFAULT '[]',
	resource_types      TEXT    NOT NULL DEFAULT '[]',
	resource            TEXT    NOT NULL DEFAULT '',
	container           TEXT    NOT NULL DEFAULT '',
	permissions         TEXT    NOT NULL DEFAULT '[]',
	sp                  TEXT    NOT NULL DEFAULT '',
	start_at            {{TIME}},
	expiry              {{TIME}},
	expired             BOOLEAN NOT NULL DEFAULT FALSE,
	reasons             TEXT    NOT NULL DEFAULT '[]',
	redacted            TEXT    NOT NULL DEFAULT '',
	sk_hint             TEXT    NOT NULL DEFAULT '',
	secret_signature    TEXT    NOT NULL DEFAULT '',
	secret_query        TEXT    NOT NULL DEFAULT '',
	secret_url          TEXT    NOT NULL DEFAULT '',
	first_seen          {{TIME}} NOT NULL,
	last_seen           {{TIME}} NOT NULL,
	first_seen_run      BIGINT  NOT NULL REFERENCES runs (id),
	last_seen_run       BIGINT  NOT NULL REFERENCES runs (id),
	loc_count           BIGINT  NOT NULL DEFAULT 0,
	overflow_count      BIGINT  NOT NULL DEFAULT 0,
	liveness            TEXT    NOT NULL DEFAULT '',
	liveness_code       TEXT    NOT NULL DEFAULT '',
	liveness_checked_at {{TIME}}
);
CREATE INDEX findings_account ON findings (account, container);
CREATE INDEX findings_first_seen_run ON findings (first_seen_run);

-- Locations, capped per finding. loc_key is the hex SHA-256 of the
-- occurrence key (repository, commit, path, line, message), so that long
-- paths never meet an index size limit. repo_id 0: not from a GitHub
-- repository. repo_public: whether the repository was public when the
-- location was recorded (NULL: unknown).
CREATE TABLE locations (
	fingerprint TEXT    NOT NULL REFERENCES findings (fingerprint) ON DELETE CASCADE,
	loc_key     TEXT    NOT NULL,
	repo_id     BIGINT  NOT NULL DEFAULT 0,
	repo        TEXT    NOT NULL DEFAULT '',
	path        TEXT    NOT NULL DEFAULT '',
	line        BIGINT  NOT NULL DEFAULT 0,
	col         BIGINT  NOT NULL DEFAULT 0,
	commit_sha  TEXT    NOT NULL DEFAULT '',
	author      TEXT    NOT NULL DEFAULT '',
	commit_date {{TIME}},
	at_tip      BOOLEAN,
	message     BOOLEAN NOT NULL DEFAULT FALSE,
	blob        TEXT    NOT NULL DEFAULT '',
	permalink   TEXT    NOT NULL DEFAULT '',
	repo_public BOOLEAN,
	run_id      BIGINT  NOT NULL REFERENCES runs (id),
	first_seen  {{TIME}} NOT NULL,
	PRIMARY KEY (fingerprint, loc_key)
);
CREATE INDEX locations_repo ON locations (repo_id);

-- Keys of locations past the per-finding cap, so that counting them is
-- idempotent (findings.overflow_count).
CREATE TABLE location_overflow (
	fingerprint TEXT NOT NULL REFERENCES findings (fingerprint) ON DELETE CASCADE,
	loc_key     TEXT NOT NULL,
	PRIMARY KEY (fingerprint, loc_key)
);

-- Occurrences a scan itself did not list (report.Finding.LocationsTruncated),
-- per repository and run; the largest count reported wins.
CREATE TABLE finding_truncations (
	fingerprint TEXT   NOT NULL REFERENCES findings (fingerprint) ON DELETE CASCADE,
	repo_id     BIGINT NOT NULL,
	run_id      BIGINT NOT NULL,
	dropped     BIGINT NOT NULL,
	PRIMARY KEY (fingerprint, repo_id, run_id)
);

-- Triage state per token.
CREATE TABLE triage (
	fingerprint TEXT PRIMARY KEY REFERENCES findings (fingerprint) ON DELETE CASCADE,
	state       TEXT NOT NULL,
	reason      TEXT NOT NULL DEFAULT '',
	actor       TEXT NOT NULL DEFAULT '',
	updated_at  {{TIME}} NOT NULL
);

-- Issue intents: the write-ahead record of reliability.md §3.2, one per
-- (token, repository).
CREATE TABLE issue_intents (
	fingerprint  TEXT    NOT NULL REFERENCES findings (fingerprint) ON DELETE CASCADE,
	repo_id      BIGINT  NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
	tracker      TEXT    NOT NULL DEFAULT '',
	state        TEXT    NOT NULL,
	issue_number BIGINT  NOT NULL DEFAULT 0,
	issue_url    TEXT    NOT NULL DEFAULT '',
	marker       TEXT    NOT NULL,
	attempts     BIGINT  NOT NULL DEFAULT 0,
	last_error   TEXT    NOT NULL DEFAULT '',
	created_at   {{TIME}} NOT NULL,
	updated_at   {{TIME}} NOT NULL,
	PRIMARY KEY (fingerprint, repo_id)
);
CREATE INDEX issue_intents_state ON issue_intents (state);
