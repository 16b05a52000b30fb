"""server_core.py - the HTTP server core against nginx, side by side in one run.

1. Throughput: wrk drives `GET /health` on predictd and `GET /` on nginx answering a fixed
   200 (one worker process), in alternating rounds; prints requests/s and the ratio
   (target: predictd >= 0.9x nginx).
2. Memory: predictd's resident set at idle and with 10,000 idle keep-alive connections
   (each has sent one request and read its answer); prints KiB per connection
   (targets: <= 10 MiB idle, <= 4 KiB per idle connection). nginx's figure is printed too.

Usage: /usr/bin/python3 bench/server_core.py [--bin build/release/predictd] [--seconds 5]
       [--rounds 3] [--conns 64] [--idle 10000]
Every run is bounded in time; the servers are always stopped.
"""
import argparse
import os
import socket
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402


def tree_rss_kib(pid):
    """RSS of pid and its direct children (nginx master + worker)."""
    total = benchlib.rss_kib(pid)
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            for child in f.read().split():
                total += benchlib.rss_kib(int(child))
    except OSError:
        pass
    return total


def open_idle(port, n, path, deadline_s=120.0):
    """Opens n keep-alive connections, each sends one request and reads the answer.
    Returns the sockets (caller closes). Bounded by deadline_s."""
    req = f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
    socks, t0 = [], time.monotonic()
    for _ in range(n):
        if time.monotonic() - t0 > deadline_s:
            break
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(req)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                raise RuntimeError("server closed an idle-test connection")
            data += chunk
        socks.append(s)
    return socks


def measure_memory(pid_fn, port, path, n):
    """(idle KiB, KiB with n idle connections, KiB per connection)."""
    time.sleep(0.5)
    idle = pid_fn()
    socks = open_idle(port, n, path)
    time.sleep(1.0)
    loaded = pid_fn()
    for s in socks:
        s.close()
    per = (loaded - idle) / max(len(socks), 1)
    return idle, loaded, per, len(socks)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default=benchlib.PREDICTD)
    ap.add_argument("--seconds", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--conns", type=int, default=64)
    ap.add_argument("--idle", type=int, default=10000)
    args = ap.parse_args()
    benchlib.raise_nofile()

    port = benchlib.free_port()
    argv = [args.bin, "serve", "--host", "127.0.0.1", "--port", str(port), "--log-level",
            "warning", "--keepalive-timeout", "300"]
    pd_rps, ng_rps = [], []
    with benchlib.server(argv, port) as pd_proc, benchlib.nginx_fixed_200() as (ng_port, ng_proc):
        for _ in range(args.rounds):
            r = benchlib.wrk(f"http://127.0.0.1:{port}/health", conns=args.conns,
                             seconds=args.seconds)
            pd_rps.append(r["rps"])
            assert r["errors"] == 0 and r["non2xx"] == 0, r["raw"]
            r = benchlib.wrk(f"http://127.0.0.1:{ng_port}/", conns=args.conns,
                             seconds=args.seconds)
            ng_rps.append(r["rps"])
        pd_med, ng_med = statistics.median(pd_rps), statistics.median(ng_rps)
        print(f"GET /health, wrk -t1 -c{args.conns} -d{args.seconds}s, {args.rounds} rounds "
              f"(median)")
        print(f"  predictd  {pd_med:12,.0f} req/s   rounds: {', '.join(f'{x:,.0f}' for x in pd_rps)}")
        print(f"  nginx     {ng_med:12,.0f} req/s   rounds: {', '.join(f'{x:,.0f}' for x in ng_rps)}")
        print(f"  ratio predictd/nginx: {pd_med / ng_med:.2f}x (target >= 0.90x)")

    # memory: one server at a time, so that both have the whole fd budget
    port = benchlib.free_port()
    argv[argv.index("--port") + 1] = str(port)
    with benchlib.server(argv, port) as pd_proc:
        idle, loaded, per, n = measure_memory(lambda: benchlib.rss_kib(pd_proc.pid), port,
                                              "/health", args.idle)
        print(f"predictd RSS: idle {idle / 1024:.1f} MiB (target <= 10 MiB); with {n} idle "
              f"keep-alive connections {loaded / 1024:.1f} MiB = {per:.2f} KiB/connection "
              f"(target <= 4 KiB)")
    with benchlib.nginx_fixed_200() as (ng_port, ng_proc):
        idle, loaded, per, n = measure_memory(lambda: tree_rss_kib(ng_proc.pid), ng_port, "/",
                                              args.idle)
        print(f"nginx RSS (master+worker): idle {idle / 1024:.1f} MiB; with {n} idle "
              f"connections {loaded / 1024:.1f} MiB = {per:.2f} KiB/connection")


if __name__ == "__main__":
    main()
