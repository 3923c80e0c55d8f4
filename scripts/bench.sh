#!/usr/bin/env bash
# Directory-scan benchmark: sasquatch scan against grep -rF and ripgrep (when
# installed) searching the same anchors over the same generated tree, in one run.
#
#   scripts/bench.sh [MB] [FILES]      default: 1024 MB in 4000 files
#
# The tree holds source-like text with a synthetic SAS every 64 KiB on average
# (fixtures/cmd/gentree). Each tool runs 3 times after one warm-up run (the
# tree is in the page cache, so this measures CPU, not the disk); the best
# wall time is reported with the peak RSS.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:${PATH}"
MB="${1:-1024}"
FILES="${2:-4000}"
OUT="${BENCH_DIR:-${TMPDIR:-/tmp}/sasquatch-bench}" # outside the module: the tree holds .go files
TREE="$OUT/tree-${MB}mb"
mkdir -p "$OUT"

go build -o "$OUT/sasquatch" ./cmd/sasquatch
if [ ! -d "$TREE" ]; then
	echo "generating $MB MB in $FILES files under $TREE ..." >&2
	go run ./fixtures/cmd/gentree -files "$FILES" -mb "$MB" -token-every 65536 -seed 1 "$TREE"
fi
bytes=$(du -sb "$TREE" | cut -f1)

# The anchors the detector's prefilter looks for (detect/prefilter.go), case-insensitively.
ANCHORS="$OUT/anchors.txt"
printf '%s\n' 'sig=' 'sig%3d' 'sig%253d' 'sig\u003d' '.core.windows.net' '.core.chinacloudapi.cn' \
	'.core.usgovcloudapi.net' '.core.cloudapi.de' 'sharedaccesssignature' 'accountkey=' >"$ANCHORS"

run() { # name, command...
	local name=$1; shift
	# Output goes to a file, not /dev/null: GNU grep stops at the first match
	# when its output is /dev/null.
	local out="$OUT/out.txt"
	"$@" >"$out" 2>/dev/null || true # warm-up (and page cache)
	local best="" rss=""
	for _ in 1 2 3; do
		local t0 t1 el
		t0=$(date +%s.%N)
		/usr/bin/time -f '%M' -o "$OUT/rss" "$@" >"$out" 2>/dev/null || true
		t1=$(date +%s.%N)
		el=$(echo "$t1 - $t0" | bc -l)
		if [ -z "$best" ] || (($(echo "$el < $best" | bc -l))); then best=$el; rss=$(tail -n1 "$OUT/rss"); fi
	done
	printf '%-34s %8.3f s %9.1f MB/s %8d MiB peak RSS %8d output lines\n' "$name" "$best" "$(echo "$bytes / $best / 1000000" | bc -l)" "$((rss / 1024))" "$(wc -l <"$out")"
}

echo "tree: $TREE, $((bytes / 1000000)) MB, $(find "$TREE" -type f | wc -l) files; $(nproc) CPUs; $(go version | cut -d' ' -f3)"
run "sasquatch scan --format jsonl" "$OUT/sasquatch" scan --quiet --format jsonl "$TREE"
run "grep -rFi -f anchors" grep -rFi -f "$ANCHORS" "$TREE"
if command -v rg >/dev/null; then
	run "rg -uuu -i -F -f anchors" rg -uuu -i -F -f "$ANCHORS" "$TREE"
else
	echo "rg not installed (apt-get install ripgrep) - skipped"
fi
for peer in gitleaks trufflehog; do
	command -v "$peer" >/dev/null || echo "$peer not installed - skipped"
done
if command -v gitleaks >/dev/null; then
	run "gitleaks dir" gitleaks dir --no-banner --exit-code 0 "$TREE"
fi
if command -v trufflehog >/dev/null; then
	run "trufflehog filesystem" trufflehog filesystem --no-verification --no-update "$TREE"
fi
