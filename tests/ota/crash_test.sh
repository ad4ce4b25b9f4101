#!/usr/bin/env bash
# Crash at every failpoint of the update agent, then restart: the store must serve a valid model
# (old or new), hold no slot but the active and previous ones, and have an empty temp area.
# Usage: crash_test.sh PETREL_BINARY SOURCE_DIR
set -uo pipefail
petrel=$(realpath "$1")
src=$(realpath "$2")
model=/usr/share/libonnx-testdata/data/node/test_relu/model.onnx
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }

"$petrel" keygen --out dev >/dev/null
"$petrel" pack "$model" --name tiny --version 1.0.0 --key dev.key -o v1.petrel >/dev/null
"$petrel" pack "$model" --name tiny --version 1.1.0 --key dev.key -o v2.petrel >/dev/null

# check NAME ALLOWED_VERSIONS...: restart (check runs recovery + the smoke test), then invariants.
check() {
  local name=$1
  shift
  local out
  if ! out=$("$petrel" update check --store store 2>&1); then bad "$name: check failed: $out"; return; fi
  local v=${out#ok: }
  v=${v%% *}
  local found=0
  for want in "$@"; do [ "$v" = "$want" ] && found=1; done
  [ $found = 1 ] && ok || bad "$name: active '$v', want one of $*"
  "$petrel" run --store store -q >/dev/null 2>&1 && ok || bad "$name: run --store failed"
  [ -z "$(ls -A store/tmp)" ] && ok || bad "$name: temp area not empty: $(ls -A store/tmp)"
  local n
  n=$(ls store/slots | wc -l)
  [ "$n" -le 2 ] && ok || bad "$name: $n slots"
  [ -z "$(find store -name '*.tmp')" ] && ok || bad "$name: leftover $(find store -name '*.tmp')"
}

for fp in after_verify before_journal_commit write_state after_state_rename mid_copy write_model after_stage \
          after_smoke before_switch after_switch; do
  rm -rf store
  "$petrel" update install v1.petrel --store store --trust dev.pub >/dev/null || bad "$fp: install v1"
  PETREL_FAILPOINTS=$fp=exit "$petrel" update install v2.petrel --store store --trust dev.pub >/dev/null 2>&1
  rc=$?
  [ $rc -eq 86 ] && ok || bad "$fp: install exited $rc, want 86 (failpoint not reached?)"
  check "$fp" 1.0.0 1.1.0
  # The install can be run again and completes (unless it already had).
  "$petrel" update install v2.petrel --store store --trust dev.pub >/dev/null 2>&1
  check "$fp/again" 1.1.0
  # Failing writes instead of a crash.
  for kind in enospc eio; do
    rm -rf store
    "$petrel" update install v1.petrel --store store --trust dev.pub >/dev/null
    PETREL_FAILPOINTS=$fp=$kind "$petrel" update install v2.petrel --store store --trust dev.pub >/dev/null 2>&1
    check "$fp=$kind" 1.0.0 1.1.0
  done
done

# A larger encrypted model (228 KB: four 64 KiB secretstream chunks), so that the crash lands in
# the middle of the model file, between chunks.
fashion=$src/models/fashion_mnist/fashion_cnn.onnx
"$petrel" keygen --out fleet --encryption >/dev/null
"$petrel" pack "$fashion" --name fashion --version 1.0.0 --key dev.key --encrypt-key fleet.enc -o f1.petrel >/dev/null
"$petrel" pack "$fashion" --name fashion --version 1.1.0 --key dev.key --encrypt-key fleet.enc -o f2.petrel >/dev/null
for fp in mid_copy write_model after_stage after_smoke after_switch; do
  rm -rf store
  "$petrel" update install f1.petrel --store store --trust dev.pub --decrypt-key fleet.enc >/dev/null || bad "enc/$fp: install v1"
  PETREL_FAILPOINTS=$fp=exit "$petrel" update install f2.petrel --store store --trust dev.pub --decrypt-key fleet.enc >/dev/null 2>&1
  rc=$?
  [ $rc -eq 86 ] && ok || bad "enc/$fp: install exited $rc, want 86"
  check "enc/$fp" 1.0.0 1.1.0
done

# A crash during rollback, and while a trial version counts its starts.
rm -rf store
"$petrel" update install v1.petrel --store store --trust dev.pub >/dev/null
"$petrel" update install v2.petrel --store store --trust dev.pub >/dev/null
PETREL_FAILPOINTS=before_rollback=exit "$petrel" update rollback --store store >/dev/null 2>&1
[ $? -eq 86 ] && ok || bad "before_rollback: not reached"
check before_rollback 1.1.0
PETREL_FAILPOINTS=after_state_rename=exit "$petrel" update rollback --store store >/dev/null 2>&1
check rollback/after_state_rename 1.0.0
PETREL_FAILPOINTS=write_state=exit "$petrel" run --store store -q >/dev/null 2>&1
check run/write_state 1.0.0

# Trial through petrel run --store: a bad input is the caller's fault and changes nothing; good
# runs end the trial.
rm -rf store
"$petrel" update install v1.petrel --store store --trust dev.pub >/dev/null
"$petrel" update install v2.petrel --store store --trust dev.pub --trial-runs 2 >/dev/null
/usr/bin/python3 -c 'import numpy as np; np.save("bad.npy", np.zeros((2, 2), np.float32))'
"$petrel" run --store store -q --input bad.npy >/dev/null 2>&1
[ $? -eq 2 ] && ok || bad "trial: bad input should exit 2"
"$petrel" update status --store store | grep -q "1.1.0 (trial, 0 good" && ok || bad "trial: bad input changed the trial: $("$petrel" update status --store store)"
"$petrel" run --store store -q >/dev/null && "$petrel" run --store store -q >/dev/null || bad "trial: runs failed"
"$petrel" update status --store store | grep -q "1.1.0 (good)" && ok || bad "trial: not marked good: $("$petrel" update status --store store)"
"$petrel" update history --store store | grep -q "marked-good" && ok || bad "trial: no marked-good event"

echo "crash tests: $pass passed, $fail failed"
[ $fail -eq 0 ]
