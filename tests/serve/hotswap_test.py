#!/usr/bin/env python3
"""Hot swap under load: `petrel serve --store` answers a steady stream of infer requests from
several keep-alive clients while `petrel update install` (a newer version) and `petrel update
rollback` run against its store, twice each. Zero failed requests, both versions answered, the
server marks the new version good through the agent (its good inferences are reported), and
/metrics counts the swaps. Usage: hotswap_test.py PETREL SOURCE_DIR"""
import re, http.client, json, os, shutil, subprocess, sys, tempfile, threading, time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serve_util import FASHION, SAMPLES, Server, check, infer_body

petrel = os.path.realpath(sys.argv[1])
src = os.path.realpath(sys.argv[2])
work = tempfile.mkdtemp(prefix="petrel-serve-swap-")
store = os.path.join(work, "store")


def cli(*args):
    r = subprocess.run([petrel, *args], cwd=work, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        raise SystemExit(f"petrel {' '.join(args)} failed ({r.returncode}): {r.stdout}")
    return r.stdout


cli("keygen", "--out", "dev")
model = os.path.join(src, FASHION)
# Both versions carry a calibration profile: the server monitors drift against the bundle's.
os.mkdir(os.path.join(work, "calib"))
for f in sorted(os.listdir(os.path.join(src, SAMPLES))):
    if f.startswith("sample_"):
        shutil.copy(os.path.join(src, SAMPLES, f), os.path.join(work, "calib", f))
cli("profile", model, "--data", "calib", "--bins", "4", "-o", "profile.json")
for v, out in (("1.0.0", "v1.petrel"), ("1.1.0", "v2.petrel")):
    cli("pack", model, "--name", "fashion", "--version", v, "--key", "dev.key", "--calibration", "profile.json", "-o", out)
cli("update", "install", "v1.petrel", "--store", store, "--trust", "dev.pub")

body = json.dumps(infer_body(np.load(os.path.join(src, SAMPLES, "sample_0.npy")).astype(np.float32)))
srv = Server(petrel, ["--store", store, "--threads", "8", "--contexts", "2", "--timeout-ms", "5000"], cwd=work)
stop = threading.Event()
lock = threading.Lock()
stats = {"ok": 0, "failed": 0, "errors": [], "versions": {}}
last_version = [None]


def client():
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
    while not stop.is_set():
        try:
            conn.request("POST", "/v2/models/fashion/infer", body=body)
            r = conn.getresponse()
            data = r.read()
            ok = r.status == 200
            version = json.loads(data)["model_version"] if ok else None
            if ok and int(np.argmax(json.loads(data)["outputs"][0]["data"])) != 9:
                ok, data = False, b"wrong class"
        except Exception as e:  # a dropped connection is a failed request too
            ok, data, version = False, repr(e).encode(), None
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
        with lock:
            if ok:
                stats["ok"] += 1
                stats["versions"][version] = stats["versions"].get(version, 0) + 1
                last_version[0] = version
            else:
                stats["failed"] += 1
                stats["errors"].append(data[:200])
    conn.close()


def wait_for(version, timeout=15):
    # Served by every new request: wait until a request that started after the switch sees it.
    deadline = time.time() + timeout
    while time.time() < deadline:
        st, j = srv.json("POST", "/v2/models/fashion/infer", json.loads(body))
        if st == 200 and j["model_version"] == version:
            return
        time.sleep(0.05)
    raise SystemExit(f"server did not switch to {version} within {timeout}s")


def status_of(version):
    s = json.loads(cli("update", "status", "--store", store, "--json"))
    a = s.get("active") or {}
    return a.get("status") if a.get("version") == version else None


threads = [threading.Thread(target=client) for _ in range(4)]
try:
    for t in threads:
        t.start()
    time.sleep(0.5)
    swaps = 0
    for round_ in range(2):
        cli("update", "install", "v2.petrel", "--store", store, "--trust", "dev.pub", "--trial-runs", "5")
        wait_for("1.1.0")
        swaps += 1
        if round_ == 0:  # good inferences reach the agent: the trial ends with "good"
            deadline = time.time() + 10
            while status_of("1.1.0") != "good" and time.time() < deadline:
                time.sleep(0.1)
            check(status_of("1.1.0") == "good", "1.1.0 was not marked good by the server's reports")
        time.sleep(0.5)
        cli("update", "rollback", "--store", store)
        wait_for("1.0.0")
        swaps += 1
        time.sleep(0.5)
finally:
    stop.set()
    for t in threads:
        t.join(30)
    st, hdrs, metrics = srv.request("GET", "/metrics")
    rc, err = srv.stop()
print(f"hotswap: {stats['ok']} ok, {stats['failed']} failed, versions {stats['versions']}")
check(stats["failed"] == 0, f"failed requests: {stats['errors'][:5]}")
check(stats["ok"] > 50, "too few requests to mean anything")
check(set(stats["versions"]) == {"1.0.0", "1.1.0"}, f"versions seen {stats['versions']}")
text = metrics.decode()
line = [l for l in text.splitlines() if l.startswith('petrel_model_swaps_total{model="fashion"}')]
check(line and float(line[0].split()[-1]) == swaps, f"swaps counted: {line} (expected {swaps})")
check(re.search(r'^petrel_drift_score\{model="fashion"\} \S+$', text, re.M), "no drift score from the bundle's profile")
check(re.search(r'^petrel_drift_psi\{[^}]*kind="input_mean"[^}]*\} \S+$', text, re.M), "no input drift from the bundle's profile")
check(not re.search(r'^petrel_router_offline_total\{[^}]*\} [1-9]', text, re.M), "monitoring only: nothing should want the cloud")
check(rc == 0, f"exit code {rc}: {err}")
shutil.rmtree(work, ignore_errors=True)
