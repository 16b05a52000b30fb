"""server_core.py - the HTTP server core against nginx, side by side in one run.

1. Throughput: wrk drives `GET /health` on predictd and `GET /` on nginx answering a fixed
   200 (one worker process), in alternating rounds; prints requests/s and the ratio
   (target: predictd >= 0.9x nginx).
2. Memory: predictd's resident set at idle and with 10,000 idle keep-alive connections
   (each has sent one request and read its answer); prints KiB per connection
   (targets: <= 10 MiB idle, <= 4 KiB per idle connection). nginx's figure is printed too.

3. Cores: for each N of --loops (default 1,2), predictd --loops N against nginx with N
   worker processes (both one listening socket per loop/worker, SO_REUSEPORT), on
   `GET /health` and on the tiny model's `POST /predict` (models/seed.json, run on the
   loop) against nginx's fixed 200, wrk with N threads, alternating rounds; prints
   requests/s and the ratio at equal core counts, and each side's scaling from 1 to N.
   On a 2-core machine wrk shares the cores with the server: the figures at 2 are what
   two loops give under a client that takes its part of the same CPUs.

Usage: /usr/bin/python3 bench/server_core.py [--bin build/release/predictd] [--seconds 5]
       [--rounds 3] [--conns 64] [--idle 10000] [--loops 1,2] [--only cores|core|memory]
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
    ap.add_argument("--loops", default="1,2",
                    help="loop/worker counts compared in part 3, comma-separated")
    ap.add_argument("--only", choices=("core", "memory", "cores"),
                    help="run one part: core (1), memory (2) or cores (3)")
    args = ap.parse_args()
    benchlib.raise_nofile()
    if args.only in (None, "core"):
        bench_core(args)
    if args.only in (None, "memory"):
        bench_memory(args)
    if args.only in (None, "cores"):
        bench_cores(args)


def bench_core(args):
    """Part 1: GET /health on one loop against nginx with one worker."""
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


def bench_memory(args):
    """Part 2: resident memory, idle and with args.idle keep-alive connections."""
    # one server at a time, so that both have the whole fd budget
    port = benchlib.free_port()
    argv = [args.bin, "serve", "--host", "127.0.0.1", "--port", str(port), "--log-level",
            "warning", "--keepalive-timeout", "300"]
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


TINY_BODY = '{"feature1": 1.0, "feature2": 2.0}'
SEED_MODEL = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                          "models", "seed.json")


def bench_cores(args):
    """Part 3: predictd --loops N against nginx with N workers, N = each of args.loops."""
    counts = [int(x) for x in args.loops.split(",") if x.strip()]
    results = {}  # (n, what) -> (predictd median, nginx median)
    for n in counts:
        port = benchlib.free_port()
        argv = [args.bin, "serve", "--host", "127.0.0.1", "--port", str(port), "--log-level",
                "warning", "--keepalive-timeout", "300", "--loops", str(n), SEED_MODEL]
        conns = args.conns * n
        with benchlib.server(argv, port) as _pd, \
                benchlib.nginx_fixed_200('{"prediction":1}', workers=n) as (ng_port, _ng):
            for what, path, method, body in (("GET /health", "/health", "GET", None),
                                             ("POST /predict (tiny)", "/predict", "POST",
                                              TINY_BODY)):
                pd_rps, ng_rps = [], []
                for _ in range(args.rounds):
                    r = benchlib.wrk(f"http://127.0.0.1:{port}{path}", method=method, body=body,
                                     headers={"Content-Type": "application/json"} if body
                                     else None, conns=conns, threads=n, seconds=args.seconds)
                    assert r["errors"] == 0 and r["non2xx"] == 0, r["raw"]
                    pd_rps.append(r["rps"])
                    r = benchlib.wrk(f"http://127.0.0.1:{ng_port}/", conns=conns, threads=n,
                                     seconds=args.seconds)
                    ng_rps.append(r["rps"])
                results[(n, what)] = (statistics.median(pd_rps), statistics.median(ng_rps))
                print(f"{what}: predictd --loops {n} vs nginx worker_processes {n}, wrk -t{n} "
                      f"-c{conns} -d{args.seconds}s, {args.rounds} rounds (median)")
                print(f"  predictd  {results[(n, what)][0]:12,.0f} req/s   rounds: "
                      f"{', '.join(f'{x:,.0f}' for x in pd_rps)}")
                print(f"  nginx     {results[(n, what)][1]:12,.0f} req/s   rounds: "
                      f"{', '.join(f'{x:,.0f}' for x in ng_rps)}")
    print(f"\nratios at equal core counts (predictd / nginx), and scaling from {counts[0]} "
          f"(machine: {os.cpu_count()} CPUs, wrk on the same CPUs)")
    for what in ("GET /health", "POST /predict (tiny)"):
        for n in counts:
            pd_r, ng_r = results[(n, what)]
            base_pd, base_ng = results[(counts[0], what)]
            print(f"  {what:22s} {n} loop(s)/worker(s): {pd_r / ng_r:.2f}x   scaling "
                  f"predictd {pd_r / base_pd:.2f}x, nginx {ng_r / base_ng:.2f}x")


if __name__ == "__main__":
    main()
