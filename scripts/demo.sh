#!/usr/bin/env bash
# The README's first command: builds sasquatch and runs its jobs on built-in,
# synthetic examples (no network, no real token):
#   1. a one-off scan of the shipped demo directory (fixtures/demo);
#   2. a stateful sweep of a small GitHub organisation served on loopback by
#      fixtures/cmd/demogh, run twice (the second finds nothing new and
#      fetches nothing), then the issues it would file (a dry run) and the
#      report kept in the store.
# Arguments are passed to the scan of step 1 (e.g. --format jsonl).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:${PATH}"
now=2026-09-01T00:00:00Z
go build -o bin/sasquatch ./cmd/sasquatch
go build -o bin/demogh ./fixtures/cmd/demogh

echo "== 1. sasquatch scan fixtures/demo"
set +e
./bin/sasquatch scan --now "$now" "$@" fixtures/demo
code=$?
set -e
if [ "$code" -gt 1 ]; then # 1 means "findings", which the demo expects
	echo "demo: sasquatch scan exited $code" >&2
	exit "$code"
fi

tmp="$(mktemp -d)"
demogh=""
cleanup() {
	[ -n "$demogh" ] && kill "$demogh" 2>/dev/null && wait "$demogh" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
mkfifo "$tmp/hold"
./bin/demogh <"$tmp/hold" >"$tmp/api" &
demogh=$!
exec 3>"$tmp/hold" # keeps demogh's standard input open until the end
for _ in $(seq 100); do
	[ -s "$tmp/api" ] && break
	sleep 0.1
done
api="$(head -n 1 "$tmp/api")"
[ -n "$api" ] || { echo "demo: the demo GitHub did not start" >&2; exit 2; }
db="$tmp/demo.db"
common=(--db "$db" --api-url "$api" --now "$now")

echo
echo "== 2. sasquatch sweep --org contoso-demo (a local, synthetic GitHub organisation)"
./bin/sasquatch sweep "${common[@]}" --org contoso-demo --fail-on never 2>&1
echo
echo "== 3. the same sweep again: nothing new, nothing fetched"
./bin/sasquatch sweep "${common[@]}" --org contoso-demo --fail-on never 2>&1
echo
echo "== 4. sasquatch issues (dry run: what would be filed, and where)"
./bin/sasquatch issues --db "$db" --api-url "$api" 2>&1 || true
echo
echo "== 5. sasquatch report --format markdown (the store's open findings)"
./bin/sasquatch report "${common[@]}" --format markdown --fail-on never --quiet | head -n 40
