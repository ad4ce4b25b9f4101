#!/usr/bin/env python3
"""`petrel update install http://...`: resume with Range after dropped connections, a server that
ignores Range, a crash after the download (the partial file is kept and the install re-runs),
the size bound, and an unreachable server (timeouts, retries, then a clear error).
Usage: download_test.py PETREL SOURCE_DIR"""
import http.server, json, os, shutil, socket, subprocess, sys, tempfile, threading, time

petrel = os.path.realpath(sys.argv[1])
model = "/usr/share/libonnx-testdata/data/node/test_relu/model.onnx"
work = tempfile.mkdtemp(prefix="petrel-dl-")
state = {"drop_after": 0, "ignore_range": False, "requests": [], "slow": False}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def do_GET(self):
        path = os.path.join(work, self.path.lstrip("/"))
        if not os.path.isfile(path):
            self.send_error(404)
            return
        data = open(path, "rb").read()
        rng = self.headers.get("Range")
        state["requests"].append(rng)
        start = 0
        if rng and not state["ignore_range"]:
            start = int(rng.split("=")[1].split("-")[0])
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if state["slow"]:  # trickle the body so that the client can be killed mid-download
            try:
                for i in range(0, len(body), 256):
                    self.wfile.write(body[i:i + 256])
                    self.wfile.flush()
                    time.sleep(0.02)
            except OSError:
                pass
            return
        if state["drop_after"] > 0:  # send part of the body, then drop the connection
            self.wfile.write(body[: state["drop_after"]])
            self.wfile.flush()
            state["drop_after"] = 0 if state.get("drops_left", 1) <= 1 else state["drop_after"]
            state["drops_left"] = state.get("drops_left", 1) - 1
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.wfile.write(body)


def run(*args, env=None):
    r = subprocess.run([petrel, *args], cwd=work, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       env={**os.environ, **(env or {})})
    return r.returncode, r.stdout


passed = failed = 0


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print(f"FAIL {name}: {detail}")


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
threading.Thread(target=server.serve_forever, daemon=True).start()
base = f"http://127.0.0.1:{server.server_address[1]}"
store = os.path.join(work, "store")
try:
    run("keygen", "--out", "dev")
    for v in ("1.0.0", "1.1.0", "1.2.0", "1.3.0"):
        run("pack", model, "--name", "tiny", "--version", v, "--key", "dev.key", "-o", f"v{v}.petrel")
    size = os.path.getsize(os.path.join(work, "v1.0.0.petrel"))

    # Plain download.
    rc, out = run("update", "install", f"{base}/v1.0.0.petrel", "--store", store, "--trust", "dev.pub")
    check("plain", rc == 0, out)

    # The connection drops twice mid-body: retries resume with Range.
    state.update(drop_after=size // 3, drops_left=2, requests=[])
    rc, out = run("update", "install", f"{base}/v1.1.0.petrel", "--store", store, "--trust", "dev.pub", "--retries", "4")
    check("resume", rc == 0, out)
    check("resume used Range", any(r and r.startswith("bytes=") for r in state["requests"]), state["requests"])

    # Crash right after the download: the partial file stays, the next run resumes (416: complete).
    state.update(requests=[])
    rc, out = run("update", "install", f"{base}/v1.2.0.petrel", "--store", store, "--trust", "dev.pub",
                  env={"PETREL_FAILPOINTS": "after_download=exit"})
    check("crash after download", rc == 86, out)
    check("partial kept", os.path.exists(os.path.join(store, "tmp", "download.part")))
    rc, out = run("update", "install", f"{base}/v1.2.0.petrel", "--store", store, "--trust", "dev.pub")
    check("install after crash", rc == 0, out)
    check("no re-download", state["requests"][-1] == f"bytes={size}-", state["requests"])
    check("temp cleaned", os.listdir(os.path.join(store, "tmp")) == [], os.listdir(os.path.join(store, "tmp")))

    # kill -9 in the middle of a download: the next install resumes from the bytes on disk.
    for v in ("1.4.0",):
        run("pack", model, "--name", "tiny", "--version", v, "--key", "dev.key", "-o", f"v{v}.petrel")
    s4 = os.path.join(work, "s4")
    state.update(slow=True, requests=[])
    p = subprocess.Popen([petrel, "update", "install", f"{base}/v1.4.0.petrel", "--store", s4, "--trust", "dev.pub"],
                         cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    part = os.path.join(s4, "tmp", "download.part")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and (not os.path.exists(part) or os.path.getsize(part) < 512):
        time.sleep(0.01)
    p.kill()
    p.wait()
    state["slow"] = False
    got = os.path.getsize(part) if os.path.exists(part) else 0
    check("killed mid-download", 0 < got < size, got)
    rc, out = run("update", "install", f"{base}/v1.4.0.petrel", "--store", s4, "--trust", "dev.pub")
    check("resume after kill", rc == 0 and state["requests"][-1] == f"bytes={got}-", (rc, out, state["requests"]))
    check("temp cleaned after resume", os.listdir(os.path.join(s4, "tmp")) == [], os.listdir(os.path.join(s4, "tmp")))

    # A server that ignores Range: the download starts over and still verifies.
    state.update(drop_after=size // 2, drops_left=1, ignore_range=True)
    rc, out = run("update", "install", f"{base}/v1.3.0.petrel", "--store", store, "--trust", "dev.pub")
    check("ignore range", rc == 0, out)
    state["ignore_range"] = False

    # A tampered download is refused and deleted (not "resumed" forever); the good one then installs.
    good = open(os.path.join(work, "v1.3.0.petrel"), "rb").read()
    bad = bytearray(good)
    bad[len(bad) // 2] ^= 1
    open(os.path.join(work, "tampered.petrel"), "wb").write(bad)
    rc, out = run("update", "install", f"{base}/tampered.petrel", "--store", os.path.join(work, "s3"), "--trust", "dev.pub")
    check("tampered download refused", rc != 0 and "signature does not verify" in out, out)
    check("tampered download deleted", os.listdir(os.path.join(work, "s3", "tmp")) == [], os.listdir(os.path.join(work, "s3", "tmp")))

    # Size bound, 404, unreachable server.
    rc, out = run("update", "install", f"{base}/v1.3.0.petrel", "--store", os.path.join(work, "s2"), "--trust", "dev.pub",
                  "--max-download-bytes", "1000")
    check("size bound", rc != 0 and "exceeds the limit" in out, out)
    rc, out = run("update", "install", f"{base}/missing.petrel", "--store", store, "--trust", "dev.pub")
    check("404", rc != 0 and "HTTP status 404" in out, out)
    rc, out = run("update", "install", "http://127.0.0.1:1/x.petrel", "--store", store, "--trust", "dev.pub",
                  "--retries", "2", "--timeout-ms", "500")
    check("unreachable", rc != 0 and "cannot connect" in out, out)
    rc, out = run("update", "status", "--store", store, "--json")
    check("final", rc == 0 and json.loads(out)["active"]["version"] == "1.3.0", out)
    print(f"download tests: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)
finally:
    server.shutdown()
    shutil.rmtree(work, ignore_errors=True)
