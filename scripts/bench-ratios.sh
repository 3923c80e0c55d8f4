#!/usr/bin/env bash
# bench-ratios.sh: the performance ratios of issue 14 in one run, on corpora
# the script generates (synthetic data only):
#
#   scripts/bench-ratios.sh            default: 5 interleaved runs of each command
#
# Environment: RUNS (5); MB (256) and FILES (1000) size the tree written by
# fixtures/cmd/gentree (a synthetic SAS every TOKEN_EVERY=65536 bytes, in the
# generator's mix of encodings); COMMITS (1500), HIST_MB (100) and TOKENS (10)
# size the history written by fixtures/history/cmd/genhistory; BENCH_DIR
# (${TMPDIR:-/tmp}/sasquatch-bench-ratios) holds the corpora, which are reused
# by later runs with the same sizes.
#
# Each round runs every command once (interleaved, so that a noisy neighbour
# hurts every command alike; the two commands of each ratio back to back,
# their order swapped every round); the medians of RUNS rounds are printed,
# after one warm-up round that fills the page cache (and both corpora are
# read again before every round). Wall time
# is taken by bash ($EPOCHREALTIME, microseconds); CPU (user+sys, children
# included) and peak RSS (the largest of the process and its children) by
# /usr/bin/time. Outputs go to files: GNU tools stop at the first match when
# their output is /dev/null. The cat-file baseline writes to /dev/null (git
# does not stop early there, and a file would only make it slower).
#
# Tools used: the project's own (go build / go run), rg, git, /usr/bin/time,
# bash itself (arithmetic, medians, parsing) and coreutils for files
# (mkdir, rm, cat, touch, nproc).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:${PATH}"

RUNS=${RUNS:-5}
MB=${MB:-256}
FILES=${FILES:-1000}
TOKEN_EVERY=${TOKEN_EVERY:-65536}
COMMITS=${COMMITS:-1500}
HIST_MB=${HIST_MB:-100}
TOKENS=${TOKENS:-10}
OUT=${BENCH_DIR:-${TMPDIR:-/tmp}/sasquatch-bench-ratios} # outside the module: the tree holds .go files
TREE=$OUT/tree-$MB-$FILES-$TOKEN_EVERY
REPO=$OUT/history-$COMMITS-$HIST_MB-$TOKENS.git
SQ=$OUT/sasquatch
mkdir -p "$OUT"

command -v rg >/dev/null || { echo "bench-ratios: rg not found (apt-get install ripgrep)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "bench-ratios: /usr/bin/time not found (apt-get install time)" >&2; exit 2; }

# --- the machine -------------------------------------------------------------
model=unknown
while IFS=: read -r k v; do
	if [[ $k == "model name"* ]]; then model=${v# }; break; fi
done </proc/cpuinfo
read -r l1 l5 l15 _ </proc/loadavg
gover=$(go version)
gover=${gover#go version }
echo "machine: $(nproc) CPUs, $model; ${gover%% *}; load $l1 $l5 $l15 (a busy machine inflates wall times: compare the CPU columns too)"
echo "commit:  $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . 2>/dev/null || echo ' (modified)')"

# --- corpora -----------------------------------------------------------------
# built as the Dockerfile builds the released binary (static, stripped)
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$SQ" ./cmd/sasquatch
if [ ! -f "$TREE.planted" ]; then
	rm -rf "$TREE"
	echo "generating the tree: $MB MiB in $FILES files -> $TREE" >&2
	go run ./fixtures/cmd/gentree -files "$FILES" -mb "$MB" -token-every "$TOKEN_EVERY" -seed 1 "$TREE" >"$TREE.gen"
	read -r gen <"$TREE.gen"
	[[ $gen =~ tokens=([0-9]+) ]] || { echo "bench-ratios: gentree said: $gen" >&2; exit 1; }
	echo "${BASH_REMATCH[1]}" >"$TREE.planted"
fi
read -r tree_planted <"$TREE.planted"
if [ ! -f "$REPO.done" ]; then
	rm -rf "$REPO"
	echo "generating the history: $COMMITS commits, ~$HIST_MB MiB of blobs, $TOKENS tokens -> $REPO" >&2
	go run ./fixtures/history/cmd/genhistory -commits "$COMMITS" -mb "$HIST_MB" -tokens "$TOKENS" "$REPO" >&2
	touch "$REPO.done"
fi
hist_planted=$TOKENS

# --- measurement ---------------------------------------------------------------
NAMES=(scan rg w1 w2 scano git catfile)
declare -A LABEL=(
	[scan]="sasquatch scan (default workers)"
	[scano]="sasquatch scan -o FILE (fsync, rename)"
	[rg]="rg -uuu -i -F (same anchors)"
	[w1]="sasquatch scan --workers 1"
	[w2]="sasquatch scan --workers 2"
	[git]="sasquatch git"
	[catfile]="git cat-file --batch-all-objects"
)
declare -A WALL CPU RSS # space-separated samples: microseconds, milliseconds, KiB

# cmd NAME: the command of NAME, in the array C.
cmd() {
	case $1 in
	scan) C=("$SQ" scan --format jsonl --quiet "$TREE") ;;
	scano) C=("$SQ" scan --format jsonl -o "$OUT/scano.jsonl" --quiet "$TREE") ;;
	rg) C=(rg -uuu -i -F -e sig= -e sig%3d -e sig%253d -e .core.windows.net -e SharedAccessSignature -e AccountKey= "$TREE") ;;
	w1) C=("$SQ" scan --workers 1 --format jsonl --quiet "$TREE") ;;
	w2) C=("$SQ" scan --workers 2 --format jsonl --quiet "$TREE") ;;
	git) C=("$SQ" git --format jsonl --quiet "$REPO") ;;
	catfile) C=(git --git-dir="$REPO" cat-file --batch-all-objects --batch) ;;
	esac
}

# measure NAME [record]: runs it once (stdout to a file, /dev/null for
# cat-file); records wall, CPU and RSS when asked. sasquatch and rg both
# write their report to standard output, redirected to a file: the same
# path for both. The scano row shows what -o adds: sasquatch writes a
# temporary file, fsyncs it and renames it into place (design: a report is
# never seen half written), which rg does not do. sasquatch exits 1 when it
# finds something: only exit codes above 1 fail the benchmark.
measure() {
	local name=$1 out=$OUT/$1.stdout t0 t1 rc=0
	cmd "$name"
	[ "$name" = catfile ] && out=/dev/null
	t0=$EPOCHREALTIME
	/usr/bin/time -f '%U %S %M' -o "$OUT/time.out" "${C[@]}" >"$out" 2>"$OUT/$name.stderr" || rc=$?
	t1=$EPOCHREALTIME
	if ((rc > 1)); then
		echo "bench-ratios: $name exited $rc:" >&2
		cat "$OUT/$name.stderr" >&2
		exit 1
	fi
	[ "${2:-}" = record ] || return 0
	local u s m line
	while read -r line; do [[ $line =~ ^[0-9.]+\ [0-9.]+\ [0-9]+$ ]] && read -r u s m <<<"$line"; done <"$OUT/time.out"
	WALL[$name]+="$(($(us "$t1") - $(us "$t0"))) "
	CPU[$name]+="$(($(ms "$u") + $(ms "$s"))) "
	RSS[$name]+="$m "
}

us() { local s=${1%.*} f=${1#*.}000000; echo $((10#$s * 1000000 + 10#${f:0:6})); } # seconds.frac -> µs
ms() { local s=${1%.*} f=${1#*.}000; echo $((10#$s * 1000 + 10#${f:0:3})); }       # seconds.frac -> ms

# median of integers (bash only).
median() {
	local -a a=($1)
	local i j t n=${#a[@]}
	for ((i = 1; i < n; i++)); do
		t=${a[i]}
		for ((j = i - 1; j >= 0 && a[j] > t; j--)); do a[j + 1]=${a[j]}; done
		a[j + 1]=$t
	done
	echo "${a[n / 2]}"
}

# pairmed A B: the median over rounds of A's wall time / B's in the same
# round, as "x.yy". Commands of one round run back to back, so a ratio
# within a round holds when the machine's speed drifts between rounds.
pairmed() {
	local -a a=(${WALL[$1]}) b=(${WALL[$2]})
	local i r=""
	for ((i = 0; i < ${#a[@]}; i++)); do r+="$(((a[i] * 100 + b[i] / 2) / b[i])) "; done
	local m
	m=$(median "$r")
	printf '%d.%02d' $((m / 100)) $((m % 100))
}

# fixed-point helpers: fmt3 µs -> "s.mmm"; ratio a b -> "x.yy".
fmt3() { printf '%d.%03d' $(($1 / 1000000)) $((($1 % 1000000 + 500) / 1000)); }
ratio() { local r=$(((${1} * 100 + ${2} / 2) / ${2})); printf '%d.%02d' $((r / 100)) $((r % 100)); }

echo "tree:    $TREE ($MB MiB, $FILES files, $tree_planted planted tokens)"
echo "history: $REPO ($COMMITS commits, ~$HIST_MB MiB of blobs, $hist_planted planted tokens)"
echo "runs:    $RUNS interleaved rounds after one warm-up round; medians"
# warm: reads both corpora, unmeasured, before every round. The ratios
# compare work on files in the page cache, and a machine may page out
# files idle for a while (this project's VMs run DAMON reclaim, which pages
# out what it saw cold for a minute): without this, whichever command came
# first after an eviction paid for the disk.
shopt -s globstar nullglob
warm() { cat "$TREE"/**/* "$REPO"/**/* >/dev/null 2>&1 || true; }
warm
for n in "${NAMES[@]}"; do measure "$n"; done # warm-up: page cache, binaries
# Each compared pair runs back to back, in turn A B then B A from one round
# to the next, so that neither command always follows the same one.
for ((r = 1; r <= RUNS; r++)); do
	warm
	if ((r % 2)); then
		order=(rg scan scano w1 w2 git catfile)
	else
		order=(scano scan rg w2 w1 catfile git)
	fi
	for n in "${order[@]}"; do measure "$n" record; done
done

declare -A MW MC MR
echo
printf '%-36s %9s %9s %10s\n' command wall_s cpu_s peak_rss
for n in "${NAMES[@]}"; do
	MW[$n]=$(median "${WALL[$n]}")
	MC[$n]=$(median "${CPU[$n]}")
	MR[$n]=$(median "${RSS[$n]}")
	printf '%-36s %9s %9s %6d MiB\n' "${LABEL[$n]}" "$(fmt3 "${MW[$n]}")" "$(fmt3 $((MC[$n] * 1000)))" $((MR[$n] / 1024))
done

# --- recall: the summary line of each JSONL report ------------------------------
summary() { # file -> "findings locations" from its summary line
	local line f=0 l=0
	while IFS= read -r line; do
		if [[ $line == '{"type":"summary"'* ]]; then
			[[ $line =~ \"findings\":([0-9]+) ]] && f=${BASH_REMATCH[1]}
			[[ $line =~ \"locations\":([0-9]+) ]] && l=${BASH_REMATCH[1]}
		fi
	done <"$1"
	echo "$f $l"
}
rg_lines=0
while IFS= read -r _; do rg_lines=$((rg_lines + 1)); done <"$OUT/rg.stdout"

echo
echo "ratios (of the medians; 'paired': median of the ratios within each round; target in brackets)"
printf '  %-44s wall %5sx  paired %5sx  cpu %5sx   [wall <= 2.0x]\n' "sasquatch scan / rg" "$(ratio "${MW[scan]}" "${MW[rg]}")" "$(pairmed scan rg)" "$(ratio "${MC[scan]}" "${MC[rg]}")"
printf '  %-44s wall %5sx  paired %5sx  cpu %5sx   [wall >= 1.7x]\n' "--workers 1 / --workers 2 (speed-up)" "$(ratio "${MW[w1]}" "${MW[w2]}")" "$(pairmed w1 w2)" "$(ratio "${MC[w1]}" "${MC[w2]}")"
printf '  %-44s wall %5sx  paired %5sx  cpu %5sx   [wall <= 1.3x, cpu <= 1.6x]\n' "sasquatch git / cat-file" "$(ratio "${MW[git]}" "${MW[catfile]}")" "$(pairmed git catfile)" "$(ratio "${MC[git]}" "${MC[catfile]}")"
printf '  %-44s wall %5sx  paired %5sx  cpu %5sx   (what the durable -o costs)\n' "sasquatch scan -o FILE / scan to stdout" "$(ratio "${MW[scano]}" "${MW[scan]}")" "$(pairmed scano scan)" "$(ratio "${MC[scano]}" "${MC[scan]}")"

echo
echo "recall (planted tokens found; the last run of each)"
for n in scan w1 w2 scano; do
	out=$OUT/$n.stdout
	[ "$n" = scano ] && out=$OUT/scano.jsonl
	read -r f l < <(summary "$out")
	printf '  %-36s %5d findings, %5d locations of %d planted  %s\n' "${LABEL[$n]}" "$f" "$l" "$tree_planted" "$([ "$f" -ge "$tree_planted" ] && echo OK || echo MISSED)"
done
read -r f l < <(summary "$OUT/git.stdout")
printf '  %-36s %5d findings, %5d locations of %d planted  %s\n' "${LABEL[git]}" "$f" "$l" "$hist_planted" "$([ "$f" -ge "$hist_planted" ] && echo OK || echo MISSED)"
printf '  %-36s %5d matching lines (for reference)\n' "${LABEL[rg]}" "$rg_lines"
