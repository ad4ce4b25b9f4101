#!/usr/bin/python3
"""Open N fresh connections to a running `petrel serve` at once; each posts one infer request.

    bench/serve_burst.py PORT [N] [--rounds R]

Prints, per round, the median and slowest answer, how many took over 1 s, and how many got no
answer within 30 s. A listen queue too short for the burst shows up as answers after 1 s, 3 s,
7 s ... (TCP retransmissions of dropped SYNs or handshake ACKs). Uses a shipped Fashion-MNIST
sample, so the server must serve the default model as `fashion`.
"""
import argparse, json, pathlib, socket, threading, time

import numpy as np

ap = argparse.ArgumentParser()
ap.add_argument("port", type=int)
ap.add_argument("n", type=int, nargs="?", default=128)
ap.add_argument("--rounds", type=int, default=5)
args = ap.parse_args()
root = pathlib.Path(__file__).resolve().parent.parent
x = np.load(root / "models/fashion_mnist/samples/sample_0.npy").astype(np.float32)
body = json.dumps({"inputs": [{"name": "image", "datatype": "FP32", "shape": list(x.shape),
                               "data": [float(v) for v in x.reshape(-1)]}]}).encode()
request = (b"POST /v2/models/fashion/infer HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
           b"Connection: close\r\nContent-Length: %d\r\n\r\n" % len(body)) + body


def one(i, barrier, latency, status):
    barrier.wait()
    t = time.monotonic()
    try:
        with socket.create_connection(("127.0.0.1", args.port), timeout=30) as s:
            s.sendall(request)
            data = b""
            while chunk := s.recv(65536):
                data += chunk
        status[i] = data[9:12].decode(errors="replace")
        latency[i] = (time.monotonic() - t) * 1000
    except OSError as e:
        status[i] = type(e).__name__


for r in range(args.rounds):
    latency, status = [None] * args.n, [None] * args.n
    barrier = threading.Barrier(args.n)
    threads = [threading.Thread(target=one, args=(i, barrier, latency, status)) for i in range(args.n)]
    for t in threads: t.start()
    for t in threads: t.join()
    done = sorted(v for v in latency if v is not None)
    other = [s for s in status if s != "200"]
    print(f"round {r + 1}: {len(done)}/{args.n} answered, median {done[len(done) // 2]:.1f} ms, "
          f"slowest {done[-1]:.1f} ms, over 1 s: {sum(v > 1000 for v in done)}, "
          f"not 200 or no answer: {len(other)} {sorted(set(other))}" if done else f"round {r + 1}: no answers")
