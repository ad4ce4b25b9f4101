#!/usr/bin/env python3
"""Randomized kill -9 during install and rollback of a small real bundle.

Each round starts `petrel update install v2` (when 1.0.0 is active) or `petrel update rollback`
(when 1.1.0 is), kills it with SIGKILL at a uniformly random time in [0, 1.2 x the duration of an
uncontended install], then reopens the store with `petrel update check` (recovery + smoke test of
the active model). Invariant after every kill: the active model is 1.0.0 or 1.1.0 and passes its
smoke test, the temp area is empty, at most two slots exist.
PETREL_KILL_COUNT sets the number of kills (default 1000), spread over PETREL_KILL_WORKERS
independent stores run side by side (default 2). PETREL_KILL_MODEL=FILE.onnx and
PETREL_KILL_ENCRYPT=1 use another model / encrypted bundles. Usage: kill_test.py PETREL SOURCE_DIR
"""
import os, random, shutil, subprocess, sys, tempfile, threading, time

petrel = os.path.realpath(sys.argv[1])
count = int(os.environ.get("PETREL_KILL_COUNT", "1000"))
workers = max(1, int(os.environ.get("PETREL_KILL_WORKERS", "2")))
model = os.environ.get("PETREL_KILL_MODEL", "/usr/share/libonnx-testdata/data/node/test_relu/model.onnx")
encrypt = os.environ.get("PETREL_KILL_ENCRYPT", "0") == "1"  # bundles encrypted (installed with --decrypt-key)
work = tempfile.mkdtemp(prefix="petrel-kill-")


def run(*args, check=True):
    r = subprocess.run([petrel, *args], cwd=work, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if check and r.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed ({r.returncode}): {r.stdout}")
    return r


def active(store):
    r = run("update", "check", "--store", store, check=False)
    if r.returncode != 0 or not r.stdout.startswith("ok: "):
        return None, r.stdout
    return r.stdout.split()[1], r.stdout


totals = {"killed": 0, "finished": 0, "violations": 0, "1.0.0": 0, "1.1.0": 0}
lock = threading.Lock()


def worker(idx, n, span):
    rng = random.Random(int(os.environ.get("PETREL_KILL_SEED", "1")) * 1000 + idx)
    store = os.path.join(work, f"store{idx}")
    run("update", "install", "v1.petrel", "--store", store, "--trust", "dev.pub", *key_args)
    install = [petrel, "update", "install", "v2.petrel", "--store", store, "--trust", "dev.pub", *key_args]
    rollback = [petrel, "update", "rollback", "--store", store]
    version = "1.0.0"
    local = {"killed": 0, "finished": 0, "violations": 0, "1.0.0": 0, "1.1.0": 0}
    recent = []  # 1 when the command finished before its kill: keeps ~20% so kills cover every step
    for i in range(n):
        cmd = install if version == "1.0.0" else rollback
        p = subprocess.Popen(cmd, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0, span))
        if p.poll() is None:
            p.kill()
            local["killed"] += 1
            recent.append(0)
        else:
            local["finished"] += 1
            recent.append(1)
        p.wait()
        if len(recent) == 10:  # the machine's load changes how long a step takes: follow it
            share = sum(recent) / len(recent)
            span *= 1.25 if share < 0.1 else 0.8 if share > 0.35 else 1.0
            recent = []
        version, out = active(store)
        if version in ("1.0.0", "1.1.0"):
            local[version] += 1
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
            local["violations"] += 1
            print(f"store {idx} kill {i}: " + "; ".join(problems), flush=True)
            if local["violations"] > 10 or version is None:
                break
    with lock:
        for k, v in local.items():
            totals[k] += v


key_args = ["--decrypt-key", "fleet.enc"] if encrypt else []
try:
    run("keygen", "--out", "dev")
    run("keygen", "--out", "fleet", "--encryption")
    enc_args = ["--encrypt-key", "fleet.enc"] if encrypt else []
    run("pack", model, "--name", "tiny", "--version", "1.0.0", "--key", "dev.key", *enc_args, "-o", "v1.petrel")
    run("pack", model, "--name", "tiny", "--version", "1.1.0", "--key", "dev.key", *enc_args, "-o", "v2.petrel")
    # How long an uncontended install takes (median of 3): kills land in [0, 1.2 x that].
    times = []
    for k in range(3):
        s = os.path.join(work, f"probe{k}")
        run("update", "install", "v1.petrel", "--store", s, "--trust", "dev.pub", *key_args)
        t0 = time.monotonic()
        run("update", "install", "v2.petrel", "--store", s, "--trust", "dev.pub", *key_args)
        times.append(time.monotonic() - t0)
    span = sorted(times)[1] * 1.2
    threads = [threading.Thread(target=worker, args=(w, count // workers + (w < count % workers), span)) for w in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(f"kill -9 test: {count} runs over {workers} stores, kill within {span * 1000:.0f} ms at first "
          f"({totals['killed']} killed mid-way, {totals['finished']} finished first); afterwards active "
          f"1.0.0 {totals['1.0.0']}x / 1.1.0 {totals['1.1.0']}x; {totals['violations']} violations")
    sys.exit(1 if totals["violations"] or totals["killed"] + totals["finished"] != count else 0)
finally:
    shutil.rmtree(work, ignore_errors=True)
