#!/usr/bin/env bash
# petrel profile end to end: a profile of the committed Fashion-MNIST model, checked against
# numbers numpy computes from the same data (input statistics, quantile edges), error exits,
# and a bundle that carries it (pack --calibration).
# Usage: profile_cli_test.sh PETREL_BINARY SOURCE_DIR
set -uo pipefail
petrel=$1
src=$2
model=$src/models/fashion_mnist/fashion_cnn.onnx
samples=$src/models/fashion_mnist/samples
idx=/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz
py=/usr/bin/python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; fail=1; }

# 1. The committed samples (always present): a folder of one-sample .npy files.
mkdir "$work/npy" && cp "$samples"/sample_*.npy "$work/npy/"
if "$petrel" profile "$model" --data "$work/npy" --bins 4 --ood-percentile 90 -o "$work/p8.json" >"$work/out" 2>"$work/err"; then
  ok profile-npy
else
  bad profile-npy; cat "$work/err"
fi
grep -q "output logits: logits, 10 classes" "$work/out" && ok profile-summary || { bad profile-summary; cat "$work/out"; }
$py - "$work/p8.json" "$work/npy" "$samples/expected_logits.npy" <<'PY' && ok profile-npy-values || bad profile-npy-values
import json, sys, glob, numpy as np
p = json.load(open(sys.argv[1]))
assert p["format"] == "petrel-calibration-profile" and p["version"] == 1 and p["samples"] == 8, p
o = p["outputs"][0]
assert o["name"] == "logits" and o["scores"] == "logits" and o["classes"] == 10
# Energies and confidences from the committed expected logits (PyTorch's), same percentile rule.
z = np.load(sys.argv[3]).astype(np.float64)
m = z.max(1, keepdims=True)
lse = (m + np.log(np.exp(z - m).sum(1, keepdims=True)))[:, 0]
energy, conf = -lse, 1 / np.exp(z - m).sum(1)
assert abs(o["ood"]["energy_threshold"] - np.percentile(energy, 90)) < 1e-3, (o["ood"], np.percentile(energy, 90))
assert abs(o["ood"]["confidence_threshold"] - np.percentile(conf, 10)) < 1e-4, (o["ood"], np.percentile(conf, 10))
assert np.allclose(o["energy"]["edges"], np.percentile(energy, [0, 25, 50, 75, 100]), atol=1e-3), o["energy"]
x = np.stack([np.load(f).astype(np.float64) for f in sorted(glob.glob(sys.argv[2] + "/*.npy"))])
i = p["inputs"][0]
assert i["name"] == "image"
assert abs(i["mean"] - x.mean()) < 1e-6 and abs(i["std"] - x.std()) < 1e-6, (i["mean"], x.mean(), i["std"], x.std())
means = x.reshape(8, -1).mean(1)
assert np.allclose(i["sample_mean"]["edges"], np.percentile(means, [0, 25, 50, 75, 100]), atol=1e-9)
assert i["sample_mean"]["fractions"] == [0.25] * 4, i["sample_mean"]
PY

# petrel drift of the same data against its own profile: no drift; at the 90th percentile one
# of the 8 samples (the least confident) is beyond the energy threshold.
"$petrel" drift "$model" --profile "$work/p8.json" --data "$work/npy" --json >"$work/d8.json" 2>"$work/err" && ok drift-npy || { bad drift-npy; cat "$work/err"; }
$py -c "import json,sys; d=json.load(open(sys.argv[1])); assert d['samples']==8 and d['max_psi']<1e-9 and d['ood_rate']==0.125, d" "$work/d8.json" \
  && ok drift-npy-values || { bad drift-npy-values; cat "$work/d8.json"; }
"$petrel" drift "$model" --profile "$work/nope.json" --data "$work/npy" >/dev/null 2>&1; [ $? -ne 0 ] && ok drift-missing-profile || bad drift-missing-profile

# 2. Errors: bad percentile, bad bins, missing data.
"$petrel" profile "$model" --data "$work/npy" --ood-percentile 100 -o "$work/x.json" >/dev/null 2>&1; [ $? -eq 2 ] && ok bad-percentile || bad bad-percentile
"$petrel" profile "$model" --data "$work/npy" --bins 0 -o "$work/x.json" >/dev/null 2>&1; [ $? -eq 2 ] && ok bad-bins || bad bad-bins
"$petrel" profile "$model" --data "$work/nope" -o "$work/x.json" >/dev/null 2>&1; [ $? -ne 0 ] && ok missing-data || bad missing-data

# 3. Shipped in a bundle (pack stores it as compact JSON: ~780 bytes for this profile).
"$petrel" keygen --out "$work/dev" >/dev/null && "$petrel" pack "$model" --name fashion --version 1.0.0 --key "$work/dev.key" \
  --calibration "$work/p8.json" -o "$work/f.petrel" >/dev/null 2>"$work/err" && ok pack-calibration || { bad pack-calibration; cat "$work/err"; }
"$petrel" inspect "$work/f.petrel" --trust "$work/dev.pub" --json >"$work/inspect.json" 2>"$work/err"
$py -c "import json,sys; d=json.load(open(sys.argv[1])); assert d['manifest']['calibration_bytes'] > 500, d['manifest']" "$work/inspect.json" 2>/dev/null \
  && ok bundle-carries-profile || { bad bundle-carries-profile; head -c 600 "$work/inspect.json"; cat "$work/err"; }

# 4. The Fashion-MNIST test set (Debian dataset-fashion-mnist), when installed: 500 images.
if [ -f "$idx" ]; then
  "$petrel" profile "$model" --data "$idx" --mean 0.286 --std 0.353 --limit 500 -o "$work/p500.json" >/dev/null 2>"$work/err" \
    && ok profile-idx || { bad profile-idx; cat "$work/err"; }
  $py - "$work/p500.json" "$idx" <<'PY' && ok profile-idx-values || bad profile-idx-values
import gzip, json, sys, numpy as np
p = json.load(open(sys.argv[1]))
raw = np.frombuffer(gzip.open(sys.argv[2]).read(), dtype=np.uint8, offset=16).reshape(-1, 784)[:500]
x = (raw.astype(np.float64) / 255.0 - 0.286) / 0.353
i = p["inputs"][0]
assert p["samples"] == 500
assert abs(i["mean"] - x.mean()) < 1e-5 and abs(i["std"] - x.std()) < 1e-5, (i["mean"], x.mean(), i["std"], x.std())
assert np.allclose(i["sample_mean"]["edges"], np.percentile(x.mean(1), np.linspace(0, 100, 11)), atol=1e-5)
o = p["outputs"][0]
assert abs(sum(o["confidence"]["fractions"]) - 1) < 1e-9 and 0 < o["ood"]["confidence_threshold"] < 1
assert all(a <= b for a, b in zip(o["energy"]["edges"], o["energy"]["edges"][1:]))
PY
  # Drift: a profile of 2000 training images; the held-out test set is stable, inverted images are not.
  train=${idx/t10k-images/train-images}
  "$petrel" profile "$model" --data "$train" --mean 0.286 --std 0.353 --limit 2000 -o "$work/ptrain.json" >/dev/null 2>"$work/err" \
    && ok profile-train || { bad profile-train; cat "$work/err"; }
  "$petrel" drift "$model" --profile "$work/ptrain.json" --data "$idx" --mean 0.286 --std 0.353 --limit 2000 --json >"$work/dtest.json" 2>"$work/err"
  $py -c "import json,sys; d=json.load(open(sys.argv[1])); assert d['samples']==2000 and d['max_psi']<0.1 and 0.002<=d['ood_rate']<=0.03, d" "$work/dtest.json" \
    && ok drift-test-set-stable || { bad drift-test-set-stable; cat "$work/dtest.json" "$work/err"; }
  $py -c "
import gzip, sys, numpy as np
raw = gzip.open(sys.argv[1]).read()
gzip.open(sys.argv[2], 'wb').write(raw[:16] + (255 - np.frombuffer(raw, dtype=np.uint8, offset=16)).tobytes())" "$idx" "$work/inverted-idx3-ubyte.gz"
  "$petrel" drift "$model" --profile "$work/ptrain.json" --data "$work/inverted-idx3-ubyte.gz" --mean 0.286 --std 0.353 --limit 2000 --json >"$work/dinv.json" 2>"$work/err"
  $py -c "import json,sys; d=json.load(open(sys.argv[1])); assert d['max_psi']>1 and d['input_mean_psi']['image']>1 and d['ood_rate']>0.05, d" "$work/dinv.json" \
    && ok drift-inverted-shift || { bad drift-inverted-shift; cat "$work/dinv.json" "$work/err"; }
else
  echo "skip profile-idx: $idx not installed"
fi
exit $fail
