"""Helpers for the black-box `petrel serve` tests: start the binary on 127.0.0.1 with --port 0,
read the "listening on" line, and make HTTP requests with the standard library only."""
import http.client, json, os, select, signal, subprocess, time

FASHION = "models/fashion_mnist/fashion_cnn.onnx"
SAMPLES = "models/fashion_mnist/samples"


class Server:
    def __init__(self, petrel, args, cwd=None, env=None):
        self.proc = subprocess.Popen([petrel, "serve", "--port", "0", *args], cwd=cwd, env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = ""
        deadline = time.time() + 30
        while time.time() < deadline:
            r, _, _ = select.select([self.proc.stdout], [], [], 0.5)
            if r:
                line = self.proc.stdout.readline()
                break
            if self.proc.poll() is not None:
                break
        if not line.startswith("listening on http"):
            self.proc.kill()
            raise SystemExit(f"server did not start: {line!r} {self.proc.stderr.read()}")
        self.port = int(line.rsplit(":", 1)[1])

    def request(self, method, path, body=None, headers=None, timeout=30):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            if isinstance(body, (dict, list)):
                body = json.dumps(body)
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            data = r.read()
            return r.status, dict(r.getheaders()), data
        finally:
            c.close()

    def json(self, method, path, body=None, headers=None):
        status, hdrs, data = self.request(method, path, body, headers)
        return status, json.loads(data) if data else None

    def stop(self, timeout=10):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise SystemExit("server did not stop within %ss of SIGTERM" % timeout)
        err = self.proc.stderr.read()
        self.proc.stdout.close()
        self.proc.stderr.close()
        return rc, err


def infer_body(array, name="image", nested=False):
    return {"inputs": [{"name": name, "datatype": "FP32", "shape": list(array.shape),
                        "data": array.tolist() if nested else array.reshape(-1).tolist()}]}


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)
