"""benchlib.py - shared pieces of predictd's benchmarks: processes that are always
stopped, wrk runs parsed into numbers, nginx answering a fixed 200, and a /health prober
that records latency over time. Free ports, raw HTTP, waiting for a server and /proc
facts come from tests/pdtest.py, shared with the end-to-end tests.

Every server listens on 127.0.0.1 on a free port; every load is bounded in time.
"""
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PY = "/usr/bin/python3"
PREDICTD = os.environ.get("PREDICTD_BIN", os.path.join(ROOT, "build", "release", "predictd"))

sys.path.insert(0, os.path.join(ROOT, "tests"))
import pdtest  # noqa: E402
from pdtest import free_port, raise_nofile, rss_kib  # noqa: E402,F401 (the benches use them)

READY_TIMEOUT = 60.0  # seconds for a server to answer its ready path


def http_get(port, path, timeout=2.0):
    """One GET over a fresh connection; returns (status, body bytes) or (None, b'')."""
    try:
        r = pdtest.http_get(port, path, timeout=timeout)
        return r.status, r.body
    except (OSError, ValueError):
        return None, b""


def wait_ready(port, path="/health", timeout=READY_TIMEOUT, proc=None):
    """Waits until path answers anything below 500; raises if proc exits first."""
    pdtest.wait_ready(port, path, timeout, proc=proc, ok=lambda status: status < 500,
                      interval=0.1)


@contextlib.contextmanager
def server(argv, port, ready_path="/health", env=None, log=None):
    """Starts argv, waits until ready_path answers, yields the Popen, always stops it."""
    out = open(log, "wb") if log else subprocess.DEVNULL
    proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env,
                            start_new_session=True)
    try:
        wait_ready(port, ready_path, proc=proc)
        yield proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        if log:
            out.close()


@contextlib.contextmanager
def nginx_fixed_200(body='{"status":"ok"}', workers=1):
    """nginx with `workers` worker processes (one by default) answering every request with
    a fixed 200; with several, each worker has its own listening socket (reuseport), as
    predictd's loops have."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="pd-nginx-") as tmp:
        conf = os.path.join(tmp, "nginx.conf")
        with open(conf, "w") as f:
            f.write(f"""
worker_processes {workers};
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log;
events {{ worker_connections 20000; }}
http {{
  access_log off;
  client_body_temp_path {tmp};
  proxy_temp_path {tmp};
  fastcgi_temp_path {tmp};
  uwsgi_temp_path {tmp};
  scgi_temp_path {tmp};
  keepalive_requests 1000000;
  server {{
    listen 127.0.0.1:{port}{" reuseport" if workers > 1 else ""};
    location / {{ default_type application/json; return 200 '{body}'; }}
  }}
}}
""")
        with server(["nginx", "-p", tmp, "-c", conf], port, ready_path="/") as proc:
            yield port, proc


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


def _ms(text):
    m = re.match(r"([\d.]+)(us|ms|s)", text)
    return float(m.group(1)) * _UNITS[m.group(2)] if m else float("nan")


def wrk(url, method="GET", body=None, headers=None, conns=64, threads=1, seconds=5,
        body_file=None, lua=""):
    """Runs wrk against url; returns {rps, p50_ms, p99_ms, errors, non2xx}. body_file: a
    file whose bytes are the body, read as they are (binary bodies: a Lua long string
    would turn their CR LF into LF). lua: more of wrk's Lua script (e.g. a request()
    function that varies the body)."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(f'wrk.method = "{method}"\n')
        if body is not None:
            eq = "=" * 4  # a long bracket level no JSON body contains: "]]" would end [[...]]
            while f"]{eq}]" in body:
                eq += "="
            f.write(f"wrk.body = [{eq}[{body}]{eq}]\n")
        if body_file is not None:
            f.write(f'local bf = assert(io.open("{body_file}", "rb"))\n'
                    'wrk.body = bf:read("*a")\nbf:close()\n')
        for k, v in (headers or {}).items():
            f.write(f'wrk.headers["{k}"] = "{v}"\n')
        f.write(lua)
        script = f.name
    try:
        out = subprocess.run(["wrk", f"-t{threads}", f"-c{conns}", f"-d{seconds}s", "--latency",
                              "--timeout", "10s", "-s", script, url],
                             capture_output=True, text=True, timeout=seconds + 60).stdout
    finally:
        os.unlink(script)
    res = {"rps": 0.0, "p50_ms": float("nan"), "p99_ms": float("nan"), "errors": 0, "non2xx": 0}
    m = re.search(r"(\d+) requests in", out)
    res["requests"] = int(m.group(1)) if m else 0
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if m:
        res["rps"] = float(m.group(1))
    m = re.search(r"^\s+50%\s+(\S+)", out, re.M)
    if m:
        res["p50_ms"] = _ms(m.group(1))
    m = re.search(r"^\s+99%\s+(\S+)", out, re.M)
    if m:
        res["p99_ms"] = _ms(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m:
        res["errors"] = sum(int(x) for x in m.groups())
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if m:
        res["non2xx"] = int(m.group(1))
    res["raw"] = out
    return res


def probe_health(port, seconds, interval=0.01, path="/health", timeout=10.0):
    """Sends GET path every `interval` s over one keep-alive connection for `seconds` s.
    Returns a list of (t since start in s, latency in ms). A probe that gets no answer
    within `timeout` ends the run (recorded as the timeout)."""
    req = f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
    samples = []
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        while time.monotonic() - start < seconds:
            t0 = time.perf_counter()
            s.sendall(req)
            buf = b""
            try:
                while True:
                    buf += s.recv(65536)
                    head, sep, body = buf.partition(b"\r\n\r\n")
                    if sep:
                        m = re.search(rb"content-length:\s*(\d+)", head, re.I)
                        if m and len(body) >= int(m.group(1)):
                            break
            except socket.timeout:
                samples.append((time.monotonic() - start, timeout * 1000))
                break
            samples.append((time.monotonic() - start, (time.perf_counter() - t0) * 1000))
            rest = interval - (time.perf_counter() - t0)
            if rest > 0:
                time.sleep(rest)
    return samples


def cpu_seconds(pid):
    """User + system CPU seconds used so far by process pid (all its threads)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values, q):
    if not values:
        return float("nan")
    v = sorted(values)
    k = min(len(v) - 1, max(0, int(round(q / 100.0 * (len(v) - 1)))))
    return v[k]


def histogram_bound(metrics_text, name, label, q):
    """The upper bound (in the metric's unit) of the histogram bucket holding quantile q of
    the series `name` whose labels contain `label` (e.g. 'route="/health"'), from a
    Prometheus text scrape; None if the series is absent."""
    buckets = []
    for line in metrics_text.splitlines():
        if line.startswith(name + "_bucket{") and label in line:
            le = re.search(r'le="([^"]+)"', line).group(1)
            buckets.append((float("inf") if le == "+Inf" else float(le),
                            float(line.rsplit(" ", 1)[1])))
    if not buckets or buckets[-1][1] == 0:
        return None
    total = buckets[-1][1]
    for bound, count in buckets:
        if count >= q * total:
            return bound
    return None
