"""`petrel serve --cloud`: the hybrid router end to end, black box. An edge server offloads
every answer below confidence 1.0 to a second `petrel serve` (the "cloud"); the cloud is killed
with SIGKILL while clients keep sending, then restarted on the same port.

Checks: zero failed client requests throughout; answers say their source (cloud, then cache for a
repeated input, edge_fallback while the cloud is down, cloud again after it is back); the
breaker opens and closes (petrel_router_circuit_state in /metrics); every answer arrives within
the cloud deadline plus a margin; drift/OOD metrics exist with a profile; promtool accepts
/metrics; --offline never offloads.
Usage: hybrid_test.py PETREL_BINARY SOURCE_DIR"""
import os, re, select, signal, subprocess, sys, tempfile, threading, time

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from serve_util import FASHION, SAMPLES, Server, check, infer_body  # noqa: E402

petrel, src = sys.argv[1], sys.argv[2]
os.chdir(src)
DEADLINE_MS = 600


def start_cloud(port):
    """A plain `petrel serve` on a fixed port (the restarted cloud must come back where it was)."""
    proc = subprocess.Popen([petrel, "serve", "--port", str(port), "--model", "fashion=" + FASHION],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    r, _, _ = select.select([proc.stdout], [], [], 30)
    line = proc.stdout.readline() if r else ""
    check(line.startswith("listening on http"), f"cloud did not start: {line!r}")
    return proc


def metric(text, name, labels=""):
    m = re.search(r"^" + re.escape(name) + r"\{[^}]*" + re.escape(labels) + r"[^}]*\} (\S+)$", text, re.M)
    return float(m.group(1)) if m else None


samples = [np.load(os.path.join(SAMPLES, f"sample_{i}.npy")).reshape(1, 1, 28, 28).astype(np.float32) for i in range(8)]
rng = np.random.default_rng(7)
work = tempfile.mkdtemp()
profile = os.path.join(work, "profile.json")
os.mkdir(os.path.join(work, "npy"))
for i, s in enumerate(samples):
    np.save(os.path.join(work, "npy", f"s{i}.npy"), s[0])
subprocess.run([petrel, "profile", FASHION, "--data", os.path.join(work, "npy"), "--bins", "4", "-o", profile],
               check=True, capture_output=True)

# The cloud: an ephemeral port chosen by the first start, reused by the restart.
probe = Server(petrel, ["--model", "fashion=" + FASHION])
cloud_port = probe.port
probe.stop()
cloud = start_cloud(cloud_port)
edge = Server(petrel, ["--model", "fashion=" + FASHION, "--cloud", f"http://127.0.0.1:{cloud_port}",
                       "--threshold", "1.0", "--cloud-timeout-ms", "200", "--cloud-deadline-ms", str(DEADLINE_MS),
                       "--cloud-retries", "1", "--breaker-failures", "3", "--breaker-cooldown-ms", "300",
                       "--profile", profile, "--threads", "8"])

results, lock, stop = [], threading.Lock(), threading.Event()
phase = ["up"]


def client(seed):
    r = np.random.default_rng(seed)
    while not stop.is_set():
        x = samples[int(r.integers(8))] + r.normal(0, 0.05, (1, 1, 28, 28)).astype(np.float32)
        t = time.time()
        status, _, data = edge.request("POST", "/v2/models/fashion/infer", infer_body(x))
        ms = (time.time() - t) * 1000
        src_ = re.search(rb'"source":"(\w+)"', data)
        with lock:
            results.append((phase[0], status, src_.group(1).decode() if src_ else None, ms))


threads = [threading.Thread(target=client, args=(i,)) for i in range(3)]
for t in threads:
    t.start()
time.sleep(2.0)

# A repeated input is answered from the cache once the cloud has answered it.
rep = infer_body(samples[3] + 0.5)
first = edge.json("POST", "/v2/models/fashion/infer", rep)
second = edge.json("POST", "/v2/models/fashion/infer", rep)
check(first[0] == 200 and second[0] == 200, f"repeat: {first[0]} {second[0]}")
check(first[1]["parameters"]["source"] == "cloud", f"first of a repeated input: {first[1]['parameters']}")
check(second[1]["parameters"]["source"] == "cache", f"second of a repeated input: {second[1]['parameters']}")
check(np.allclose(first[1]["outputs"][0]["data"], second[1]["outputs"][0]["data"]), "cache answer differs")

with lock:
    phase[0] = "down"
cloud.send_signal(signal.SIGKILL)
cloud.wait()
cloud.stdout.close()
cloud.stderr.close()
time.sleep(2.0)
m_down = edge.request("GET", "/metrics")[2].decode()
with lock:
    phase[0] = "back"
cloud = start_cloud(cloud_port)
time.sleep(2.0)
stop.set()
for t in threads:
    t.join()
m_back = edge.request("GET", "/metrics")[2].decode()

by_phase = {}
for ph, status, source, ms in results:
    check(status == 200, f"a client request failed in phase {ph}: HTTP {status}")
    check(ms < DEADLINE_MS + 1500, f"an answer took {ms:.0f} ms (cloud deadline {DEADLINE_MS} ms)")
    by_phase.setdefault(ph, {}).setdefault(source, 0)
    by_phase[ph][source] += 1
check(by_phase.get("up", {}).get("cloud", 0) > 0, f"no cloud answers while the cloud was up: {by_phase}")
check(by_phase.get("down", {}).get("edge_fallback", 0) > 0, f"no edge_fallback while the cloud was down: {by_phase}")
check(set(by_phase.get("down", {})) <= {"edge_fallback", "edge", "cloud"}, f"sources while down: {by_phase}")
check(by_phase.get("back", {}).get("cloud", 0) > 0, f"no cloud answers after the restart: {by_phase}")
check(metric(m_down, "petrel_router_circuit_opened_total", 'model="fashion"') >= 1, "breaker never opened")
check(metric(m_back, "petrel_router_circuit_state", 'model="fashion"') == 0, "breaker did not close after the restart")
check(metric(m_back, "petrel_router_cache_hits_total", 'model="fashion"') >= 1, "cache hits not exported")
check(metric(m_back, "petrel_router_fallbacks_total", 'reason="connect"') >= 1, "connect fallbacks not exported")
check(metric(m_back, "petrel_drift_score", 'model="fashion"') is not None, "drift score not exported")
check(metric(m_back, "petrel_inference_duration_seconds_count", 'source="edge_fallback"') >= 1, "duration by source")
p = subprocess.run(["promtool", "check", "metrics"], input=m_back, text=True, capture_output=True)
check(p.returncode == 0, f"promtool: {p.stdout} {p.stderr}")
edge.stop()
cloud.send_signal(signal.SIGTERM)
cloud.wait(10)
cloud.stdout.close()
cloud.stderr.close()

# Offline: the same settings never reach the cloud; answers that wanted it say edge_offline.
off = Server(petrel, ["--model", "fashion=" + FASHION, "--cloud", f"http://127.0.0.1:{cloud_port}", "--offline",
                      "--threshold", "1.0"])
st, body = off.json("POST", "/v2/models/fashion/infer", infer_body(samples[0] + 0.3))
check(st == 200 and body["parameters"]["source"] == "edge_offline", f"offline: {st} {body}")
m_off = off.request("GET", "/metrics")[2].decode()
check(metric(m_off, "petrel_router_cloud_requests_total", 'model="fashion"') in (None, 0.0), "offline server called the cloud")
off.stop()

n = len(results)
print(f"hybrid: {n} client requests, 0 failed; sources per phase {by_phase}")
