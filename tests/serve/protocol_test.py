#!/usr/bin/env python3
"""Black-box OIP v2 tests of `petrel serve` on the committed Fashion-MNIST model: endpoints and
metadata, infer answers equal to `petrel run`, errors as JSON with the right status, /metrics
accepted by promtool, graceful stop on SIGTERM. Usage: protocol_test.py PETREL SOURCE_DIR"""
import json, os, re, shutil, subprocess, sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serve_util import FASHION, SAMPLES, Server, check, infer_body

petrel = os.path.realpath(sys.argv[1])
os.chdir(sys.argv[2])

srv = Server(petrel, ["--model", "fashion=" + FASHION, "--contexts", "2", "--threads", "8"])
try:
    # Server and model metadata, health.
    st, j = srv.json("GET", "/v2")
    check(st == 200 and j["name"] == "petrel" and "version" in j, f"/v2: {st} {j}")
    for p in ("/v2/health/live", "/v2/health/ready", "/v2/models/fashion/ready", "/v2/models/fashion/versions/1/ready"):
        st, _ = srv.json("GET", p)
        check(st == 200, f"{p}: {st}")
    st, meta = srv.json("GET", "/v2/models/fashion")
    check(st == 200 and meta["platform"] == "petrel" and meta["versions"] == ["1"], f"metadata {meta}")
    check(meta["inputs"] == [{"name": "image", "datatype": "FP32", "shape": [-1, 1, 28, 28]}], f"inputs {meta['inputs']}")
    check(meta["outputs"][0]["name"] == "logits" and meta["outputs"][0]["shape"] == [-1, 10], f"outputs {meta['outputs']}")
    st, j = srv.json("GET", "/v2/models/fashion/versions/7")
    check(st == 404 and "no version '7'" in j["error"], f"unknown version: {st} {j}")

    # Infer on every shipped sample: same class as `petrel run`, logits close to PyTorch's.
    expected = np.load(os.path.join(SAMPLES, "expected_logits.npy"))
    samples = sorted(f for f in os.listdir(SAMPLES) if re.match(r"sample_\d+\.npy$", f))
    check(len(samples) >= 4, "samples missing")
    ok = 0
    for i, f in enumerate(samples):
        x = np.load(os.path.join(SAMPLES, f)).astype(np.float32)
        st, j = srv.json("POST", "/v2/models/fashion/infer", dict(infer_body(x, nested=(i % 2 == 1)), id=f"req-{i}"))
        check(st == 200, f"infer {f}: {st} {j}")
        check(j["model_name"] == "fashion" and j["model_version"] == "1" and j["id"] == f"req-{i}", f"ids {j}")
        check(j["parameters"]["source"] == "edge" and j["parameters"]["edge_ms"] > 0, f"parameters {j['parameters']}")
        out = j["outputs"][0]
        check(out["name"] == "logits" and out["datatype"] == "FP32" and out["shape"] == [1, 10], f"output {out}")
        logits = np.array(out["data"], dtype=np.float32)
        run = subprocess.run([petrel, "run", FASHION, "--input", "image=" + os.path.join(SAMPLES, f), "--quiet"],
                             stdout=subprocess.PIPE, text=True, check=True).stdout
        cls = int(re.search(r"class (\d+)", run).group(1))
        check(int(np.argmax(logits)) == cls, f"{f}: served argmax {np.argmax(logits)} != petrel run {cls}")
        check(np.allclose(logits, expected[i].reshape(-1), atol=1e-3), f"{f}: logits differ from expected")
        ok += 1
    # A batch of 3 through the symbolic batch dimension; requested output by name.
    xb = np.stack([np.load(os.path.join(SAMPLES, s)).reshape(1, 28, 28) for s in samples[:3]]).astype(np.float32)
    body = infer_body(xb)
    body["outputs"] = [{"name": "logits"}]
    st, j = srv.json("POST", "/v2/models/fashion/versions/1/infer", body)
    check(st == 200 and j["outputs"][0]["shape"] == [3, 10], f"batch: {st} {j}")
    check(np.allclose(np.array(j["outputs"][0]["data"]).reshape(3, 10), expected[:3].reshape(3, 10), atol=1e-3), "batch logits")

    # Errors: JSON bodies with the right status and a message that says what is wrong.
    x = np.zeros((1, 1, 28, 28), np.float32)
    def expect(method, path, body, status, needle, headers=None):
        st, hdrs, data = srv.request(method, path, body, headers)
        check(st == status, f"{method} {path}: expected {status}, got {st} {data[:200]!r}")
        j = json.loads(data)
        check(needle in j["error"], f"{method} {path}: {needle!r} not in {j['error']!r}")
        return j["error"]
    bad_dtype = infer_body(x); bad_dtype["inputs"][0]["datatype"] = "INT32"
    bad_dtype["inputs"][0]["data"] = [0] * 784
    expect("POST", "/v2/models/fashion/infer", bad_dtype, 400, "expected datatype FP32, got INT32")
    expect("POST", "/v2/models/fashion/infer", infer_body(np.zeros((1, 1, 28, 27), np.float32)), 400,
           "expected shape [batch,1,28,28], got [1,1,28,27]")
    expect("POST", "/v2/models/fashion/infer", infer_body(x, name="img"), 400, "not an input of model")
    expect("POST", "/v2/models/fashion/infer", "{not json", 400, "not valid JSON")
    expect("POST", "/v2/models/fashion/infer", dict(infer_body(x), outputs=[{"name": "nope"}]), 400, "requested output")
    expect("POST", "/v2/models/nosuch/infer", infer_body(x), 404, "unknown model 'nosuch'")
    expect("GET", "/v2/models/fashion/infer", None, 405, "use POST")
    expect("POST", "/v2/models/fashion", "{}", 405, "use GET")
    expect("GET", "/v3", None, 404, "not found")
    # A batch beyond --max-batch (default 1024) is refused before any memory is planned for it.
    big = '{"inputs":[{"name":"image","datatype":"FP32","shape":[1100,1,28,28],"data":[' + ",".join(["0"] * (1100 * 784)) + "]}]}"
    expect("POST", "/v2/models/fashion/infer", big, 400, "multiply to more than 1024 (--max-batch)")

    # /metrics after this traffic: promtool accepts it and the counts are the ones sent.
    st, hdrs, text = srv.request("GET", "/metrics")
    text = text.decode()
    check(st == 200 and hdrs["Content-Type"].startswith("text/plain"), f"/metrics: {st}")
    if shutil.which("promtool"):
        p = subprocess.run(["promtool", "check", "metrics"], input=text, text=True, capture_output=True)
        check(p.returncode == 0, f"promtool: {p.stdout}{p.stderr}")
    else:
        print("promtool not installed (Debian package prometheus): format check skipped")
    m = re.search(r'petrel_requests_total\{code="200",model="fashion"\} (\d+)', text)
    check(m and int(m.group(1)) == ok + 1, f"requests_total 200: {m and m.group(1)} != {ok + 1}")
    m = re.search(r'petrel_request_errors_total\{code="400",model="fashion"\} (\d+)', text)
    check(m and int(m.group(1)) == 6, f"errors_total 400: {m and m.group(1)}")
    check('petrel_request_errors_total{code="404",model="_unknown"} 1' in text, "404 counted as _unknown")
    m = re.search(r'petrel_inference_duration_seconds_count\{model="fashion",source="edge",version="1"\} (\d+)', text)
    check(m and int(m.group(1)) == ok + 1, "duration histogram count")
    check(re.search(r'petrel_arena_bytes\{model="fashion",version="1"\} [1-9]', text), "arena bytes gauge")
    check('petrel_model_info{contexts="2",model="fashion",version="1"} 1' in text, "model info")
finally:
    rc, err = srv.stop()
check(rc == 0, f"exit code after SIGTERM: {rc}: {err}")
print(f"protocol: {ok} samples served with petrel run's class; errors, metrics and SIGTERM ok")
