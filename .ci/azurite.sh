#!/usr/bin/env bash
# Starts Azurite (the Azure Storage emulator) 3.35.0 for the verify/ tests and
# prints how to reach it.
#
# Installs azurite@3.35.0 with npm into a cache directory when it is missing
# (3.35.0 is the newest release that runs on Node.js 20), then starts it in the
# background on loopback only, in memory, without telemetry, on fixed ports
# (blob 10000, queue 10001, table 10002), and waits until the three ports
# answer. Idempotent: when an Azurite of this version already answers on the
# blob port it is reused and nothing is started.
#
# Progress goes to stderr; stdout is exactly one line, so a caller can do
#   eval "$(.ci/azurite.sh)"
#   go test ./verify/...
# and stop it afterwards with
#   .ci/azurite.sh stop
#
# Environment:
#   SASQUATCH_AZURITE_DIR   install and state directory (default $HOME/.cache/sasquatch-azurite)
#   SASQUATCH_AZURITE_PORT  blob port (default 10000); queue and table use the next two ports
#   AZURITE_ACCOUNTS        passed to Azurite unchanged ("acct:key1[:key2];..."; replaces
#                           devstoreaccount1). The tests sign with the first account it names,
#                           or with the well-known devstoreaccount1 key when it is unset.
set -euo pipefail

version=3.35.0
dir="${SASQUATCH_AZURITE_DIR:-${HOME}/.cache/sasquatch-azurite}"
blob_port="${SASQUATCH_AZURITE_PORT:-10000}"
host=127.0.0.1

log() { printf 'azurite.sh: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

[[ $blob_port =~ ^[0-9]+$ ]] && ((blob_port > 0 && blob_port < 65534)) || die "SASQUATCH_AZURITE_PORT must be a port number"
queue_port=$((blob_port + 1))
table_port=$((blob_port + 2))
pidfile="$dir/azurite.pid"
logfile="$dir/azurite.log"

# answers PORT: something accepts TCP connections on 127.0.0.1:PORT.
answers() { (exec 3<>"/dev/tcp/$host/$1") 2>/dev/null; }

# is_ours: the blob port is served by Azurite of the pinned version (its
# Server header is "Azurite-Blob/3.35.0"). Uses curl when there is one.
is_ours() {
	command -v curl >/dev/null || return 0
	curl -s -m 5 -o /dev/null -D - "http://$host:$blob_port/devstoreaccount1?comp=list" 2>/dev/null |
		tr -d '\r' | grep -qi "^server: Azurite-Blob/$version\$"
}

if [[ ${1:-} == stop ]]; then
	if [[ -f $pidfile ]]; then
		pid="$(cat "$pidfile")"
		if [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
			log "stopping Azurite (pid $pid)"
			kill "$pid"
		fi
		rm -f "$pidfile"
	fi
	exit 0
fi
[[ $# -eq 0 ]] || die "usage: $0 [stop]"

emit() { printf 'export SASQUATCH_AZURITE=%s\n' "http://$host:$blob_port"; }

if answers "$blob_port"; then
	is_ours || die "port $blob_port is in use by something that is not Azurite $version"
	answers "$queue_port" && answers "$table_port" || die "Azurite answers on $blob_port but not on $queue_port/$table_port"
	log "Azurite $version already answers on $host:$blob_port; reusing it"
	emit
	exit 0
fi
for p in "$queue_port" "$table_port"; do
	! answers "$p" || die "port $p is in use"
done

command -v node >/dev/null || die "node is not installed (Azurite needs Node.js 20)"
command -v npm >/dev/null || die "npm is not installed"
mkdir -p "$dir"
bin="$dir/node_modules/.bin/azurite"
installed="$(node -p "require(process.argv[1]).version" "$dir/node_modules/azurite/package.json" 2>/dev/null || true)"
if [[ ! -x $bin || $installed != "$version" ]]; then
	log "installing azurite@$version into $dir (npm)"
	[[ -f $dir/package.json ]] || printf '{"name":"sasquatch-azurite","private":true}\n' >"$dir/package.json"
	npm install --prefix "$dir" --no-audit --no-fund --save-exact --loglevel=error "azurite@$version" >&2
	installed="$(node -p "require(process.argv[1]).version" "$dir/node_modules/azurite/package.json")"
	[[ $installed == "$version" ]] || die "npm installed azurite $installed, want $version"
fi

log "starting Azurite $version on $host:$blob_port/$queue_port/$table_port (log: $logfile)"
# setsid + nohup: Azurite outlives this script and the CI step that ran it.
# In memory, so nothing is written; the working directory is the cache
# directory all the same, so that a stray file never lands in the checkout.
cd "$dir"
setsid nohup "$bin" \
	--disableTelemetry --skipApiVersionCheck --silent --inMemoryPersistence \
	--blobHost "$host" --blobPort "$blob_port" \
	--queueHost "$host" --queuePort "$queue_port" \
	--tableHost "$host" --tablePort "$table_port" \
	>"$logfile" 2>&1 </dev/null &
pid=$!
printf '%s\n' "$pid" >"$pidfile"

for _ in $(seq 1 120); do
	if answers "$blob_port" && answers "$queue_port" && answers "$table_port"; then
		is_ours || die "something other than Azurite $version answers on $blob_port"
		log "Azurite $version is up (pid $pid)"
		emit
		exit 0
	fi
	kill -0 "$pid" 2>/dev/null || { tail -n 20 "$logfile" >&2 || true; die "Azurite exited during start-up"; }
	sleep 0.5
done
tail -n 20 "$logfile" >&2 || true
die "Azurite did not answer on $host:$blob_port/$queue_port/$table_port within 60 s"
