#!/usr/bin/env python3
"""Randomized kill -9 during install and rollback of a small real bundle.

After every kill the store is reopened (`petrel update check`, which recovers and smoke-tests the
active model) and must serve version 1.0.0 or 1.1.0, with an empty temp area and at most two slots.
PETREL_KILL_COUNT sets the number of kills (default 1000). Usage: kill_test.py PETREL SOURCE_DIR
"""
import os, random, shutil, subprocess, sys, tempfile, time

petrel = os.path.realpath(sys.argv[1])
count = int(os.environ.get("PETREL_KILL_COUNT", "1000"))
model = "/usr/share/libonnx-testdata/data/node/test_relu/model.onnx"
work = tempfile.mkdtemp(prefix="petrel-kill-")
store = os.path.join(work, "store")
rng = random.Random(int(os.environ.get("PETREL_KILL_SEED", "1")))


def run(*args, check=True):
    r = subprocess.run([petrel, *args], cwd=work, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if check and r.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed ({r.returncode}): {r.stdout}")
    return r


def active():
    r = run("update", "check", "--store", store, check=False)
    if r.returncode != 0 or not r.stdout.startswith("ok: "):
        return None, r.stdout
    return r.stdout.split()[1], r.stdout


try:
    run("keygen", "--out", "dev")
    run("pack", model, "--name", "tiny", "--version", "1.0.0", "--key", "dev.key", "-o", "v1.petrel")
    run("pack", model, "--name", "tiny", "--version", "1.1.0", "--key", "dev.key", "-o", "v2.petrel")
    run("update", "install", "v1.petrel", "--store", store, "--trust", "dev.pub")
    install = [petrel, "update", "install", "v2.petrel", "--store", store, "--trust", "dev.pub"]
    rollback = [petrel, "update", "rollback", "--store", store]
    # How long an uncontended install takes: kills land uniformly in [0, 1.2 x that].
    t0 = time.monotonic()
    subprocess.run(install, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    span = (time.monotonic() - t0) * 1.2
    violations, killed, finished = 0, 0, 0
    seen = {"1.0.0": 0, "1.1.0": 0}
    version = "1.1.0"
    for i in range(count):
        cmd = install if version == "1.0.0" else rollback
        p = subprocess.Popen(cmd, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0, span))
        if p.poll() is None:
            p.kill()
            killed += 1
        else:
            finished += 1
        p.wait()
        version, out = active()
        if version in seen:
            seen[version] += 1
        problems = []
        if version not in ("1.0.0", "1.1.0"):
            problems.append(f"active {version!r}: {out.strip()}")
        leftovers = os.listdir(os.path.join(store, "tmp"))
        if leftovers:
            problems.append(f"temp area not empty: {leftovers}")
        slots = os.listdir(os.path.join(store, "slots"))
        if len(slots) > 2:
            problems.append(f"{len(slots)} slots: {slots}")
        if problems:
            violations += 1
            print(f"kill {i}: " + "; ".join(problems))
            if violations > 10:
                break
        if version is None:
            break
    print(f"kill -9 test: {count} runs ({killed} killed mid-way, {finished} finished first), "
          f"afterwards active 1.0.0 {seen['1.0.0']}x / 1.1.0 {seen['1.1.0']}x, {violations} violations")
    sys.exit(1 if violations else 0)
finally:
    shutil.rmtree(work, ignore_errors=True)
