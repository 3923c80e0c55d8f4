#!/usr/bin/env bash
# Starts a local PostgreSQL for the internal/store tests and prints the DSN.
#
# Runs as root on a Debian machine, fresh or not: installs PostgreSQL from
# Debian's packages when it is missing, creates (or reuses) the cluster
# "main" of the newest installed version, makes it listen on 127.0.0.1 only,
# starts it with pg_ctlcluster (which runs pg_ctl itself when systemd is not
# PID 1, as in containers), and creates the role and database "sasquatch".
# Idempotent: run it again and it only checks.
#
# Progress goes to stderr; stdout is exactly one line, so a caller can do
#   eval "$(.ci/postgres.sh)"
#   go test ./internal/store/...
# Environment: SASQUATCH_PG_PORT (default 5432), SASQUATCH_PG_PASSWORD
# (default "sasquatch": a throwaway test database reachable from loopback only).
set -euo pipefail

port="${SASQUATCH_PG_PORT:-5432}"
password="${SASQUATCH_PG_PASSWORD:-sasquatch}"
cluster=main

log() { printf 'postgres.sh: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

[[ $(id -u) -eq 0 ]] || die "run as root (it installs packages and runs commands as the postgres user)"
[[ $port =~ ^[0-9]+$ ]] || die "SASQUATCH_PG_PORT must be a number"
# Goes verbatim into SQL and into the DSN's userinfo.
[[ $password =~ ^[A-Za-z0-9._~-]+$ ]] || die "SASQUATCH_PG_PASSWORD may hold only letters, digits and . _ ~ -"

if ! compgen -G '/usr/lib/postgresql/*/bin/pg_ctl' >/dev/null || ! command -v pg_ctlcluster >/dev/null; then
	log "installing postgresql from Debian's packages"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq postgresql >/dev/null
fi
version="$(ls /usr/lib/postgresql | sort -V | tail -n 1)"
[[ -n $version ]] || die "no PostgreSQL version under /usr/lib/postgresql"

if [[ -d /run/systemd/system ]]; then
	log "systemd is running: pg_ctlcluster will go through systemctl"
else
	log "systemd is not running: pg_ctlcluster runs pg_ctl directly"
fi

# The Debian package creates the cluster on install; create it when it was
# removed or the package was installed with create_main_cluster = false.
if ! pg_lsclusters --no-header | awk -v v="$version" -v c="$cluster" '$1 == v && $2 == c { found = 1 } END { exit !found }'; then
	log "creating cluster $version/$cluster"
	pg_createcluster --port "$port" "$version" "$cluster" >&2
fi

# Loopback only, on the chosen port, in a conf.d file (read after
# postgresql.conf, so it wins). Not through pg_conftool: it writes 127.0.0.1
# unquoted, which PostgreSQL rejects. Debian's default pg_hba.conf already
# allows password (scram-sha-256) logins from 127.0.0.1/32.
confdir="/etc/postgresql/$version/$cluster/conf.d"
conf="$confdir/sasquatch.conf"
want="$(printf "listen_addresses = '127.0.0.1'\nport = %s\n" "$port")"
restart=0
if [[ ! -f $conf || "$(cat "$conf")" != "$want" ]]; then
	install -d -o postgres -g postgres -m 755 "$confdir"
	printf '%s\n' "$want" >"$conf"
	chown postgres:postgres "$conf"
	restart=1
fi
grep -Eq "^[[:space:]]*include_dir[[:space:]]*=[[:space:]]*'conf\.d'" "/etc/postgresql/$version/$cluster/postgresql.conf" ||
	die "postgresql.conf of $version/$cluster does not include conf.d"

# The socket directory lives on a tmpfs that nothing recreates without systemd.
install -d -o postgres -g postgres -m 2775 /var/run/postgresql

status="$(pg_lsclusters --no-header | awk -v v="$version" -v c="$cluster" '$1 == v && $2 == c { print $4 }')"
if [[ $status == online* ]]; then
	if ((restart)); then
		log "restarting $version/$cluster for the new configuration"
		pg_ctlcluster "$version" "$cluster" restart >&2
	fi
else
	log "starting $version/$cluster"
	pg_ctlcluster "$version" "$cluster" start >&2
fi

for _ in $(seq 1 120); do
	pg_isready -q -h 127.0.0.1 -p "$port" && break
	sleep 0.5
done
pg_isready -q -h 127.0.0.1 -p "$port" || die "PostgreSQL is not accepting connections on 127.0.0.1:$port"

psql_admin() { runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -p "$port" "$@"; }
psql_admin -d postgres >&2 <<SQL
DO \$\$
BEGIN
	IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'sasquatch') THEN
		CREATE ROLE sasquatch LOGIN PASSWORD '${password}';
	ELSE
		ALTER ROLE sasquatch LOGIN PASSWORD '${password}';
	END IF;
END
\$\$;
SELECT 'CREATE DATABASE sasquatch OWNER sasquatch'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'sasquatch') \gexec
SQL

dsn="postgres://sasquatch:${password}@127.0.0.1:${port}/sasquatch?sslmode=disable"
PGPASSWORD="$password" psql -X -q -h 127.0.0.1 -p "$port" -U sasquatch -d sasquatch -c 'SELECT 1' >/dev/null ||
	die "cannot log in as sasquatch over TCP"
log "PostgreSQL $version is up on 127.0.0.1:$port"
printf 'export SASQUATCH_TEST_POSTGRES=%s\n' "$dsn"
