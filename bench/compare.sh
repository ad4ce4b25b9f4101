#!/usr/bin/env bash
# Petrel vs ONNX Runtime on the benchmark set, alternating runtimes in the same run, at each
# thread count. Prints a table (model, both medians, ratio, GFLOP/s and % of this machine's
# fp32 peak, both peak RSS, both load times) and the geometric mean of the ratios.
#
# Both runtimes load the same file: by default each model rewritten once by `petrel convert`
# (weights 64-byte aligned, which Petrel maps without copying; ONNX Runtime copies initializers
# either way); --original benchmarks the exported file as is.
#
# Usage: bench/compare.sh [--rounds N] [--runs N] [--threads "1 2"] [--peak GFLOPS_PER_CORE] [--original] [MODEL ...]
# Results (JSON lines) are kept in build/bench/compare-DATE.jsonl.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=3 runs=30 threads="1 2" peak=117 models=() original=0
while [ $# -gt 0 ]; do
  case $1 in
    --rounds) rounds=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --peak) peak=$2; shift 2 ;;
    --original) original=1; shift ;;
    -h|--help) sed -n 2,12p "$0"; exit 0 ;;
    *) models+=("$1"); shift ;;
  esac
done
peers=${PETREL_SHARED:-../shared}/peers/ort
[ -f "$peers/ort_bench.mjs" ] || { echo "ONNX Runtime peer not found at $peers (set PETREL_SHARED)"; exit 2; }
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "installing Node.js and npm (Debian) for the ONNX Runtime peer"
  ${SUDO:-$( [ "$(id -u)" -eq 0 ] || echo sudo )} apt-get install -y -qq nodejs npm >/dev/null
fi
ort_dir=$(bash "$peers/setup.sh" 2>/dev/null)
bash scripts/build.sh petrel_cli >/dev/null
if [ ! -f build/models/.complete ]; then
  /usr/bin/python3 scripts/models/export_benchmark_set.py --out build/models >/dev/null
  touch build/models/.complete
fi
[ ${#models[@]} -gt 0 ] || models=($(ls build/models))
mkdir -p build/bench
out=build/bench/compare-$(date +%Y%m%d-%H%M%S).jsonl
for m in "${models[@]}"; do
  f=build/models/$m/model.onnx
  [ -f "$f" ] || { echo "no model $f" >&2; continue; }
  if [ "$original" = 0 ]; then
    ./build/release/petrel convert "$f" -o "build/models/$m/model.aligned.onnx" >/dev/null
    f=build/models/$m/model.aligned.onnx
    # Written back before timing: pages of a just-written file are dirty, and the kernel cannot
    # drop them when Petrel hands back weights it has packed (MADV_PAGEOUT), which inflated
    # Petrel's peak RSS by up to 50 MB in the first run after a conversion.
    sync "$f"
  fi
  for t in $threads; do
    for r in $(seq "$rounds"); do
      ./build/release/petrel bench "$f" --threads "$t" --warmup 5 --runs "$runs" --json | sed "s/^{/{\"name\": \"$m\", \"peer\": \"petrel\", /" >> "$out"
      NODE_PATH=$ort_dir/node_modules node "$peers/ort_bench.mjs" "$f" --threads "$t" --warmup 5 --runs "$runs" \
        | sed "s/^{/{\"name\": \"$m\", \"peer\": \"ort\", /" >> "$out"
    done
  done
done
/usr/bin/python3 - "$out" "$peak" <<'PY'
import json, sys, math, statistics, collections
rows = [json.loads(l) for l in open(sys.argv[1])]
peak = float(sys.argv[2])
by = collections.defaultdict(list)
for r in rows: by[(r["name"], r["threads"], r["peer"])].append(r)
def med(key, field):
    v = [r[field] for r in by[key]]
    return statistics.median(v) if v else float("nan")
print(f"{'model':22} {'thr':>3} {'petrel ms':>10} {'ort ms':>9} {'ratio':>6} {'GFLOP/s':>8} {'%peak':>6} {'RSS p/o MB':>12} {'load p/o ms':>13}")
ratios = collections.defaultdict(list)
for name, t in sorted({(k[0], k[1]) for k in by}):
    p, o = (name, t, "petrel"), (name, t, "ort")
    pm, om = med(p, "median_ms"), med(o, "median_ms")
    ratio = pm / om
    ratios[t].append(ratio)
    gf = med(p, "gflops")
    print(f"{name:22} {t:>3} {pm:>10.3f} {om:>9.3f} {ratio:>6.2f} {gf:>8.1f} {100*gf/(peak*t):>5.0f}% "
          f"{med(p,'peak_rss_mb'):>5.0f}/{med(o,'peak_rss_mb'):<5.0f} {med(p,'load_ms'):>6.1f}/{med(o,'load_ms'):<6.1f}")
for t, v in sorted(ratios.items()):
    print(f"geometric mean of petrel/ort median ratios at {t} thread(s): {math.exp(sum(map(math.log, v))/len(v)):.2f} over {len(v)} models")
PY
echo "raw results: $out"
