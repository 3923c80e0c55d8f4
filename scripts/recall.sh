#!/usr/bin/env bash
# Recall on the fixtures corpus (every SAS text form and host form of
# sas-spec §5), sasquatch against gitleaks and trufflehog when installed,
# in one run. Counted per file: a positive file is found when the tool
# reports anything in it; a negative file (placeholders, other vendors'
# signatures, near misses) reported is a false positive. sasquatch's
# per-token recall, with kind and severity, is TestCorpusRecall.
#
#   scripts/recall.sh            (needs python3 to read the tools' JSON)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:${HOME}/go/bin:${PATH}"
OUT="${BENCH_DIR:-${TMPDIR:-/tmp}/sasquatch-bench}/recall"
mkdir -p "$OUT"
CORPUS=fixtures/corpus
go build -o "$OUT/sasquatch" ./cmd/sasquatch

"$OUT/sasquatch" scan --quiet --format jsonl --now 2026-09-01T00:00:00Z "$CORPUS" >"$OUT/sasquatch.json" || true
tools=(sasquatch)
if command -v gitleaks >/dev/null; then
	gitleaks dir --no-banner --exit-code 0 --log-level error -f json -r "$OUT/gitleaks.json" "$CORPUS" || true
	tools+=(gitleaks)
fi
if command -v trufflehog >/dev/null; then
	trufflehog filesystem --no-verification --no-update --json "$CORPUS" >"$OUT/trufflehog.json" 2>/dev/null || true
	tools+=(trufflehog)
fi

python3 - "$CORPUS" "$OUT" "${tools[@]}" <<'PY'
import json, os, sys
corpus, out, tools = sys.argv[1], sys.argv[2], sys.argv[3:]
pos, neg = set(), set()
for line in open(os.path.join(corpus, "EXPECTED.tsv")):
    if line.startswith("#") or not line.strip():
        continue
    f = line.rstrip("\n").split("\t")
    (neg if f[2] == "none" else pos).add(f[0])
neg -= pos
def files(tool):
    p = os.path.join(out, tool + ".json")
    found = set()
    if tool == "gitleaks":
        for x in json.load(open(p)) if os.path.getsize(p) else []:
            found.add(os.path.relpath(x["File"], corpus))
        return found
    for line in open(p):
        line = line.strip()
        if not line.startswith("{"):
            continue
        x = json.loads(line)
        if tool == "sasquatch":
            if x.get("type") == "summary":
                continue
            for l in x["locations"]:
                found.add(l["path"])
        else:  # trufflehog
            fs = x.get("SourceMetadata", {}).get("Data", {}).get("Filesystem", {})
            if fs.get("file"):
                found.add(os.path.relpath(fs["file"], corpus))
    return found
print(f"corpus: {len(pos)} files with tokens, {len(neg)} files without")
print(f"{'tool':<12} {'files found':>12} {'recall':>8} {'false-positive files':>22}")
for t in tools:
    f = files(t)
    print(f"{t:<12} {len(f & pos):>12} {100*len(f & pos)/len(pos):>7.0f}% {len(f & neg):>22}")
PY
