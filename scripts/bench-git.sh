#!/usr/bin/env bash
# bench-git.sh: time a full-history scan against `git cat-file
# --batch-all-objects --batch` on the same synthetic repository, in one run.
#
#   scripts/bench-git.sh [DIR]        (default DIR: ${TMPDIR:-/tmp}/sasquatch-bench-git)
#
# Environment: COMMITS (5000), MB (300) size the history built with
# fixtures/history (git fast-import); REPS (3) repetitions, median reported.
# Measures wall time and CPU time (user+sys, children included) of
#   baseline  git cat-file --batch-all-objects --batch >/dev/null
#   gitscan   go run harness: Open + Blobs + a bytes.Index scan callback + Provenance
#   sasquatch sasquatch git --format jsonl --output FILE DIR/repo.git (when cmd builds)
# and peak RSS (GNU time %M: the largest process of the tree, which is a git
# child; the harness also prints its own VmHWM as self_peak_rss).
# Target: history scan within 1.5x of the baseline, memory independent of
# history length.
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=${1:-${TMPDIR:-/tmp}/sasquatch-bench-git}
COMMITS=${COMMITS:-5000}
MB=${MB:-300}
REPS=${REPS:-3}
REPO=$DIR/repo-$COMMITS-$MB.git
mkdir -p "$DIR"

if [ ! -d "$REPO" ]; then
	echo "building synthetic history: $COMMITS commits, ~$MB MiB of blobs -> $REPO"
	go run ./fixtures/history/cmd/genhistory -commits "$COMMITS" -mb "$MB" "$REPO"
fi
go build -o "$DIR/gitbench" ./crawler/gitscan/internal/gitbench
HAVE_SASQ=0
if go build -o "$DIR/sasquatch" ./cmd/sasquatch 2>/dev/null; then HAVE_SASQ=1; fi

TIME=()
if [ -x /usr/bin/time ]; then TIME=(/usr/bin/time -f '%e %U %S %M' -o "$DIR/time.out"); fi

# run NAME CMD...: prints "wall cpu maxrss_kb" into $DIR/NAME.runs
run() {
	local name=$1; shift
	if [ ${#TIME[@]} -gt 0 ]; then
		"${TIME[@]}" "$@" >"$DIR/$name.stdout" 2>"$DIR/$name.stderr" || true
		tail -n1 "$DIR/time.out" | awk '{printf "%s %.2f %s\n", $1, $2+$3, $4}' >>"$DIR/$name.runs"
	else
		local t0 t1
		t0=$(date +%s.%N)
		"$@" >"$DIR/$name.stdout" 2>"$DIR/$name.stderr" || true
		t1=$(date +%s.%N)
		echo "$(echo "$t1 - $t0" | bc) ? ?" >>"$DIR/$name.runs"
	fi
}

rm -f "$DIR"/*.runs
git --git-dir="$REPO" cat-file --batch-all-objects --batch >/dev/null # warm the page cache
for _ in $(seq "$REPS"); do
	run baseline git --git-dir="$REPO" cat-file --batch-all-objects --batch
	run gitscan "$DIR/gitbench" "$REPO"
	if [ $HAVE_SASQ = 1 ]; then
		run sasquatch "$DIR/sasquatch" git --format jsonl --output "$DIR/sasquatch.jsonl" "$REPO"
	fi
done

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
report() {
	local name=$1
	local wall cpu rss
	wall=$(cut -d' ' -f1 "$DIR/$name.runs" | median)
	cpu=$(cut -d' ' -f2 "$DIR/$name.runs" | median)
	rss=$(cut -d' ' -f3 "$DIR/$name.runs" | median)
	printf '%-10s wall %6ss  cpu %6ss  peak_rss %s kB\n' "$name" "$wall" "$cpu" "$rss"
	echo "$wall $cpu" >"$DIR/$name.median"
}
echo "repository: $REPO ($(du -shL "$REPO" | cut -f1) on disk, $(git --git-dir="$REPO" rev-list --all --count) commits); load: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo ?)"
report baseline
report gitscan
tail -n1 "$DIR/gitscan.stdout"
[ $HAVE_SASQ = 1 ] && report sasquatch && tail -n4 "$DIR/sasquatch.stderr"
read -r bw bc <"$DIR/baseline.median"
for name in gitscan sasquatch; do
	[ -f "$DIR/$name.median" ] || continue
	read -r w c <"$DIR/$name.median"
	awk -v n="$name" -v w="$w" -v c="$c" -v bw="$bw" -v bc="$bc" \
		'BEGIN {printf "%-10s / baseline: wall %.2fx  cpu %.2fx  (target wall <= 1.5x)\n", n, w/bw, c/bc}'
done
