#!/usr/bin/env bash
# Black-box tests of petrel keygen / pack / verify / inspect BUNDLE: outputs and exit codes.
# Usage: bundle_cli_test.sh PETREL_BINARY SOURCE_DIR
set -uo pipefail
petrel=$(realpath "$1")
src=$(realpath "$2")
model=$src/models/fashion_mnist/fashion_cnn.onnx
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
pass=0
fail=0
check() {  # check NAME EXPECTED_EXIT COMMAND...
  local name=$1 want=$2
  shift 2
  "$@" >out 2>err
  local rc=$?
  if [ "$rc" -eq "$want" ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL $name: exit $rc, want $want"; cat err; fi
}
expect_in() {  # expect_in NAME FILE TEXT
  if grep -qF -- "$3" "$2"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL $1: '$3' not in:"; cat "$2"; fi
}

check keygen 0 "$petrel" keygen --out dev
check keygen-other 0 "$petrel" keygen --out other
check keygen-enc 0 "$petrel" keygen --out fleet --encryption
check keygen-no-overwrite 1 "$petrel" keygen --out dev
expect_in keygen-no-overwrite err "cannot create dev.key"
[ "$(stat -c %a dev.key)" = 600 ] && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL dev.key mode $(stat -c %a dev.key)"; }

sample=$src/models/fashion_mnist/samples/sample_0.npy
check pack 0 "$petrel" pack "$model" --name fashion --version 1.0.0 --key dev.key --golden-input "image=$sample" -o b.petrel
expect_in pack out "golden 1 in / 1 out"
check pack-enc 0 "$petrel" pack "$model" --name fashion --version 1.0.1 --key dev.key --encrypt-key fleet.enc -o e.petrel
check pack-bad-version 2 "$petrel" pack "$model" --name fashion --version 1.0 --key dev.key -o x.petrel
check pack-pub-as-key 2 "$petrel" pack "$model" --name fashion --version 1.0.0 --key dev.pub -o x.petrel
expect_in pack-pub-as-key err "is not a secret signing key"
check pack-bad-input 2 "$petrel" pack "$model" --name fashion --version 1.0.0 --key dev.key --golden-input nope=x.npy -o x.petrel

check verify 0 "$petrel" verify b.petrel --trust dev.pub
expect_in verify out "ok: fashion 1.0.0"
check verify-rotation 0 "$petrel" verify b.petrel --trust other.pub --trust dev.pub
check verify-untrusted 3 "$petrel" verify b.petrel --trust other.pub
expect_in verify-untrusted err "not among the 1 trusted key"
check verify-enc 0 "$petrel" verify e.petrel --trust dev.pub --decrypt-key fleet.enc
"$petrel" keygen --out wrong --encryption >/dev/null
check verify-enc-wrong-key 2 "$petrel" verify e.petrel --trust dev.pub --decrypt-key wrong.enc
expect_in verify-enc-wrong-key err "wrong encryption key"
python3 - <<'PY'
b = bytearray(open("b.petrel", "rb").read())
b[len(b) // 2] ^= 1
open("t.petrel", "wb").write(b)
open("short.petrel", "wb").write(open("b.petrel", "rb").read()[:1000])
PY
check verify-tampered 3 "$petrel" verify t.petrel --trust dev.pub
expect_in verify-tampered err "signature does not verify"
check verify-truncated 3 "$petrel" verify short.petrel --trust dev.pub
expect_in verify-truncated err "truncated"
check verify-onnx 3 "$petrel" verify "$model" --trust dev.pub
expect_in verify-onnx err "bad magic"

check inspect-bundle 0 "$petrel" inspect e.petrel
expect_in inspect-bundle out "encrypted"
expect_in inspect-bundle out "not checked"
check inspect-bundle-trusted 0 "$petrel" inspect b.petrel --trust dev.pub
expect_in inspect-bundle-trusted out "ops:        6 (Conv, Flatten, Gemm, GlobalAveragePool, MaxPool, Relu)"
check inspect-bundle-json 0 "$petrel" inspect b.petrel --trust dev.pub --json
python3 -c 'import json; j = json.load(open("out")); assert j["signature"] == "valid" and j["manifest"]["version"] == "1.0.0" and j["manifest"]["golden"]["inputs"][0]["npy_bytes"] > 0, j' \
  && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL inspect-bundle-json"; cat out; }
check inspect-bundle-untrusted 3 "$petrel" inspect b.petrel --trust other.pub
check inspect-onnx-still-works 0 "$petrel" inspect "$model"

echo "bundle CLI tests: $pass passed, $fail failed"
[ $fail -eq 0 ]
