#!/usr/bin/env python3
"""Hostile input to `petrel serve`: oversized bodies, deep JSON, huge shape products, path tricks
in model names, missing/invalid bearer tokens. Every answer must be a JSON error with the right
status, raw path bytes are never echoed, and the server keeps serving good requests throughout.
Usage: security_test.py PETREL SOURCE_DIR"""
import http.client, json, os, shutil, socket, ssl, subprocess, sys, tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serve_util import FASHION, Server, check, infer_body

petrel = os.path.realpath(sys.argv[1])
os.chdir(sys.argv[2])
work = tempfile.mkdtemp(prefix="petrel-serve-sec-")
token_file = os.path.join(work, "token")
with open(token_file, "w") as f:
    f.write("s3cret-token-123\n")

GOOD = infer_body(np.zeros((1, 1, 28, 28), np.float32))
srv = Server(petrel, ["--model", "fashion=" + FASHION, "--max-body-bytes", "100000", "--auth-token-file", token_file,
                      "--threads", "4"])
AUTH = {"Authorization": "Bearer s3cret-token-123"}
cases = 0


def expect(method, path, body, status, headers=AUTH, needle=None, raw=None):
    global cases
    st, hdrs, data = srv.request(method, path, body, headers)
    ok = st in status if isinstance(status, tuple) else st == status
    check(ok, f"{method} {path[:80]!r}: expected {status}, got {st} {data[:200]!r}")
    j = json.loads(data)  # always JSON
    check(isinstance(j.get("error"), str), f"no error message: {data[:200]!r}")
    if needle:
        check(needle in j["error"], f"{needle!r} not in {j['error']!r}")
    if raw:
        check(raw not in data, f"raw path bytes {raw!r} echoed: {data[:200]!r}")
    # The server still answers a good request after every bad one.
    st, _, _ = srv.request("POST", "/v2/models/fashion/infer", GOOD, AUTH)
    check(st == 200, f"good request after {path[:60]!r} got {st}")
    cases += 1
    return hdrs


try:
    # Auth: health stays open; everything else needs the token; 401 carries WWW-Authenticate.
    st, _, _ = srv.request("GET", "/v2/health/ready")
    check(st == 200, f"health without token: {st}")
    h = expect("GET", "/v2", None, 401, headers={}, needle="missing bearer token")
    check(h.get("WWW-Authenticate", "").startswith("Bearer"), f"WWW-Authenticate: {h}")
    expect("POST", "/v2/models/fashion/infer", GOOD, 401, headers={"Authorization": "Bearer wrong"}, needle="invalid")
    expect("GET", "/metrics", None, 401, headers={"Authorization": "Bearer s3cret-token-12"})
    expect("GET", "/metrics", None, 401, headers={"Authorization": "Basic czNjcmV0LXRva2VuLTEyMw=="})
    expect("GET", "/v2", None, 401, headers={"Authorization": "Bearer s3cret-token-123x"})
    st, _, _ = srv.request("GET", "/v2", None, {"Authorization": "bearer s3cret-token-123"})
    check(st == 200, f"lower-case scheme: {st}")

    # Body limits: 413 (declared and actual size), deep JSON, huge shapes, too many elements.
    expect("POST", "/v2/models/fashion/infer", "x" * 200000, 413)
    expect("POST", "/v2/models/fashion/infer", "[" * 90000, 400, needle="nesting deeper")
    expect("POST", "/v2/models/fashion/infer", '{"inputs":' + "[" * 5000 + "]" * 5000 + "}", 400, needle="nesting")
    huge = {"inputs": [{"name": "image", "datatype": "FP32", "shape": [1 << 30, 1 << 30, 1 << 30, 16], "data": [0]}]}
    expect("POST", "/v2/models/fashion/infer", huge, 400, needle="elements (limit)")
    neg = {"inputs": [{"name": "image", "datatype": "FP32", "shape": [1, -1, 28, 28], "data": [0]}]}
    expect("POST", "/v2/models/fashion/infer", neg, 400, needle="shape entries")
    overflow = {"inputs": [{"name": "image", "datatype": "FP32", "shape": [2**62, 2**62, 4, 1], "data": [0]}]}
    expect("POST", "/v2/models/fashion/infer", overflow, 400)
    big_batch = infer_body(np.zeros((5000, 1, 28, 28), np.float32))  # 3.9M elements, but the body limit
    expect("POST", "/v2/models/fashion/infer", big_batch, 413)
    wrong_type = dict(GOOD)
    wrong_type = {"inputs": [dict(GOOD["inputs"][0], datatype="FP64")]}
    expect("POST", "/v2/models/fashion/infer", wrong_type, 400, needle="expected datatype FP32, got FP64")
    expect("POST", "/v2/models/fashion/infer", {"inputs": [dict(GOOD["inputs"][0], data=["a"] * 784)]}, 400,
           needle="not a valid FP32")
    expect("POST", "/v2/models/fashion/infer", {"inputs": [dict(GOOD["inputs"][0], datatype="BYTES")]}, 400,
           needle="BYTES")

    # Path tricks in model names: never a file path, never echoed raw. 400 (invalid name) or
    # 404 (a path outside the API once decoded) are both right; never 200 or 5xx.
    for path in ["/v2/models/../infer", "/v2/models/%2e%2e/infer", "/v2/models/%2e%2e%2f%2e%2e%2fetc%2fpasswd/infer",
                 "/v2/models/..%2Ffashion/infer", "/v2/models/fash%00ion/infer", "/v2/models/.hidden/infer",
                 "/v2/models/a%20b/infer", "/v2/models/%C3%A9/infer", "/v2/models/%FF%FE/infer",
                 "/v2/models/" + "a" * 300 + "/infer", "/v2/models/" + "a" * 5000 + "/infer",
                 "/v2/models/fashion%2Finfer", "/v2/models/fashion/versions/..%2F..%2F1/infer",
                 "/v2/models/fashion/versions/%00/infer", "/v2/models/fashion/versions/%0d%0aX:1/infer"]:
        expect("POST", path, GOOD, (400, 404), raw=b"\x00")
    expect("POST", "/v2/models/fash%00ion/infer", GOOD, 400, raw=b"fash")
    expect("GET", "/v2/models/%3Cscript%3E", None, 400, raw=b"<script>")

    # A raw socket: a request line longer than the server accepts, and a malformed one.
    for raw in (b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", b"\x00\x01garbage\r\n\r\n"):
        s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
        s.sendall(raw)
        s.settimeout(10)
        try:
            reply = s.recv(4096)
        except (ConnectionResetError, socket.timeout):
            reply = b""
        s.close()
        check(reply == b"" or reply.startswith(b"HTTP/1.1 4"), f"raw request answered {reply[:80]!r}")
    st, _, _ = srv.request("POST", "/v2/models/fashion/infer", GOOD, AUTH)
    check(st == 200, f"server alive after raw garbage: {st}")
finally:
    rc, err = srv.stop()
check(rc == 0, f"exit code after SIGTERM: {rc}: {err}")

# TLS: a self-signed certificate made here; the ready line says https and infer works over it.
if shutil.which("openssl"):
    cert, key = os.path.join(work, "cert.pem"), os.path.join(work, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "1", "-subj", "/CN=127.0.0.1"], check=True, capture_output=True)
    proc = subprocess.Popen([petrel, "serve", "--port", "0", "--model", "fashion=" + FASHION, "--tls-cert", cert,
                             "--tls-key", key], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    try:
        check(line.startswith("listening on https://"), f"TLS ready line: {line!r}")
        conn = http.client.HTTPSConnection("127.0.0.1", int(line.rsplit(":", 1)[1]), timeout=10,
                                           context=ssl._create_unverified_context())
        conn.request("POST", "/v2/models/fashion/infer", body=json.dumps(GOOD))
        r = conn.getresponse()
        check(r.status == 200 and json.loads(r.read())["outputs"][0]["shape"] == [1, 10], f"TLS infer: {r.status}")
        conn.close()
    finally:
        proc.terminate()
        check(proc.wait(10) == 0, "TLS server exit code")
    bad = subprocess.run([petrel, "serve", "--port", "0", "--model", "fashion=" + FASHION, "--tls-cert", key,
                          "--tls-key", cert], capture_output=True, text=True, timeout=30)
    check(bad.returncode != 0 and "TLS" in bad.stderr, f"bad TLS files: {bad.returncode} {bad.stderr}")
else:
    print("openssl not installed: TLS part skipped")
print(f"security: {cases} hostile requests answered with JSON errors; server kept serving")
shutil.rmtree(work, ignore_errors=True)
