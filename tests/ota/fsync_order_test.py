#!/usr/bin/env python3
"""Power-cut safety by protocol: traces the agent's fsync/rename calls with strace and checks the
ordering that makes a power cut at any instant leave old-or-new, never a mix:
  R1  whatever is renamed into place was fsynced first (a file, or a staged slot directory and
      every file in it);
  R2  every rename is followed by an fsync of the destination's directory before the next rename
      and before the process ends.
Covers a first install, an upgrade (plain and encrypted), a rollback and a trial run.
Exits 77 (skipped) when strace is missing. Usage: fsync_order_test.py PETREL SOURCE_DIR"""
import os, re, shutil, subprocess, sys, tempfile

petrel = os.path.realpath(sys.argv[1])
strace = shutil.which("strace")
if not strace:
    print("strace not installed: skipped")
    sys.exit(77)
model = "/usr/share/libonnx-testdata/data/node/test_relu/model.onnx"
work = tempfile.mkdtemp(prefix="petrel-fsync-")
store = os.path.join(work, "store")
FSYNC = re.compile(r'^(?:\[pid\s+\d+\]\s+|\d+\s+)?f(?:data)?sync\(\d+<([^>]*)>\)\s+=\s+0')
RENAME = re.compile(r'^(?:\[pid\s+\d+\]\s+|\d+\s+)?rename(?:at2?)?\((?:[^"]*?)"([^"]+)",\s*(?:[^"]*?)"([^"]+)".*=\s+0')
failures, checked = [], 0


def run(*args):
    r = subprocess.run([petrel, *args], cwd=work, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode:
        raise SystemExit(f"{args} failed: {r.stdout}")


def traced(name, *args):
    global checked
    log = os.path.join(work, "trace.log")
    r = subprocess.run([strace, "-f", "-y", "-o", log, "-e", "trace=fsync,fdatasync,rename,renameat,renameat2", petrel, *args],
                       cwd=work, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode:
        failures.append(f"{name}: exit {r.returncode}: {r.stdout}")
        return
    events = []
    for line in open(log):
        m = FSYNC.match(line)
        if m:
            events.append(("fsync", m.group(1)))
            continue
        m = RENAME.match(line)
        if m:
            events.append(("rename", os.path.join(work, m.group(1)), os.path.join(work, m.group(2))))
    renames = [i for i, e in enumerate(events) if e[0] == "rename"]
    if not renames:
        failures.append(f"{name}: no rename traced")
    for i in renames:
        _, src, dst = events[i]
        synced = {e[1] for e in events[:i] if e[0] == "fsync"}
        # R1: the thing renamed (and, for a directory, everything in it) was fsynced before.
        need = [src]
        if os.path.isdir(dst):
            need += [os.path.join(src, f) for f in os.listdir(dst)]
        for p in need:
            checked += 1
            if p not in synced:
                failures.append(f"{name}: {p} renamed into place without fsync")
        # R2: the destination directory is fsynced after the rename, before the next rename/exit.
        nxt = next((j for j in renames if j > i), len(events))
        checked += 1
        if not any(e[0] == "fsync" and e[1] == os.path.dirname(dst) for e in events[i + 1:nxt]):
            failures.append(f"{name}: rename to {dst} not followed by an fsync of its directory")


try:
    run("keygen", "--out", "dev")
    run("keygen", "--out", "fleet", "--encryption")
    run("pack", model, "--name", "tiny", "--version", "1.0.0", "--key", "dev.key", "-o", "v1.petrel")
    run("pack", model, "--name", "tiny", "--version", "1.1.0", "--key", "dev.key", "-o", "v2.petrel")
    run("pack", model, "--name", "tiny", "--version", "1.2.0", "--key", "dev.key", "--encrypt-key", "fleet.enc", "-o", "v3.petrel")
    traced("first install", "update", "install", "v1.petrel", "--store", store, "--trust", "dev.pub")
    traced("upgrade", "update", "install", "v2.petrel", "--store", store, "--trust", "dev.pub")
    traced("trial run", "run", "--store", store, "-q")
    traced("rollback", "update", "rollback", "--store", store)
    traced("encrypted upgrade", "update", "install", "v3.petrel", "--store", store, "--trust", "dev.pub", "--decrypt-key", "fleet.enc")
    traced("mark-good", "update", "mark-good", "--store", store)
    for f in failures:
        print("FAIL", f)
    print(f"fsync ordering: {checked} checks, {len(failures)} violations")
    sys.exit(1 if failures else 0)
finally:
    shutil.rmtree(work, ignore_errors=True)
