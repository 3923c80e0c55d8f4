#!/usr/bin/env bash
# Sweep benchmark: a fake organisation of REPOS small repositories (one in
# ten holding a token) served on loopback by git http-backend; prints
# repositories per minute, the sweep process's peak RSS and the wall time of a
# second sweep with nothing new. Usage: scripts/bench-sweep.sh [REPOS]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:${PATH}"
repos="${1:-300}"
echo "machine: $(nproc) cores, $(go version | cut -d' ' -f3), $(git --version)"
go test -run '^$' -bench '^BenchmarkSweep$' -benchtime 1x -timeout 30m ./cmd/sasquatch/ -args -repos "$repos"
