#!/usr/bin/env bash
# Builds sasquatch and scans the shipped demo directory (synthetic tokens only).
# Exit code 1 from the scan means "findings", which is what the demo expects.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:${PATH}"
go build -o bin/sasquatch ./cmd/sasquatch
set +e
./bin/sasquatch scan --now 2026-09-01T00:00:00Z "$@" fixtures/demo
code=$?
set -e
if [ "$code" -gt 1 ]; then
	echo "demo: sasquatch exited $code" >&2
	exit "$code"
fi
