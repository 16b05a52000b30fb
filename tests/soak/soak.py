#!/usr/bin/python3
"""soak.py - `make soak` (issue 14): the release binary under --seconds (default 600) of mixed
traffic, model reloads and feature-store outages, watched from outside.

What runs, all on 127.0.0.1:
- predictd serve on a temporary repository: seed (the default model), iris, `swap` (a file
  rewritten every few seconds, sometimes corrupt, then SIGHUP) and, when redis-server is
  installed, `fmodel`, whose features come from a real redis-server started here and
  stopped and restarted during the run (outages of a few seconds). --model-control
  explicit, so the control API unloads and loads iris while it is being queried.
- CLIENTS threads, each sending random requests from TRAFFIC on keep-alive or fresh
  connections: valid and invalid requests on every route family (FastAPI-style, V1, V2
  JSON and binary, MLflow, /metrics, /models, health), oversize bodies (413), garbage
  (400), and deliberate disconnects: mid-request (half a request, then close) and
  mid-answer (a request, then close before reading or after part of the answer).
- a sampler: every SAMPLE_S, VmRSS (/proc/PID/status), open descriptors (/proc/PID/fd)
  and the server's counters (/metrics).

It fails (exit 1, every reason printed) when:
- a request that was sent whole and meant to be read got no complete answer (a timeout, a
  reset, a close) - "unanswered"; an answer status outside what that request may get;
- RSS grew more than RSS_GROWTH (10%) from the end of the warm-up (WARMUP_FRACTION of the
  run, at most WARMUP_MAX_S) to the end (medians of the last samples of each);
- descriptors grew: counted with no client connected, once traffic has settled after the
  warm-up and again at the end (the same Redis state: up);
- a counter does not balance once the traffic stopped: per model, jobs submitted =
  completed + canceled + expired and none queued; requests in flight = only the scrape
  itself; answers the server counted between what clients read and what they sent;
- the server died, or did not exit 0 on SIGTERM (a graceful drain).

Figures go to --out (soak.json: every sample; summary.txt) and stdout. Every wait is
bounded: socket timeouts, a join timeout per thread, the server's drain.
"""
import argparse
import json
import os
import random
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests"))
sys.path.insert(0, os.path.join(ROOT, "python"))
import pdtest  # noqa: E402
import pdredis  # noqa: E402

HOST = "127.0.0.1"
CLIENTS = 6              # traffic threads
SOCK_TIMEOUT = 15.0      # seconds for one answer (a reload or an outage may slow one)
SAMPLE_S = 2.0           # sampling period
WARMUP_FRACTION = 0.2    # of the run, before the RSS baseline
WARMUP_MAX_S = 90.0
RSS_GROWTH = 0.10        # allowed growth after the warm-up
RSS_WINDOW = 5           # samples whose median is a baseline / the end figure
SWAP_EVERY_S = 3.0       # rewrite models/swap.json + SIGHUP
CONTROL_EVERY_S = 7.0    # unload + load iris through the control API
OUTAGE_EVERY_S = 25.0    # stop redis this often ...
OUTAGE_S = 3.0           # ... for this long
SETTLE_S = 30.0          # bound for the server to settle (connections gone, Redis up)
MAX_BODY = 1 << 20       # --max-body-size: bigger bodies are the 413 cases
N_USERS = 100            # entities in Redis
JSON_CT = {"Content-Type": "application/json"}
TOKEN = "soak-token"


# ---------------------------------------------------------------- the repository

def write_repo(d, redis_url):
    """seed, iris and swap (iris's content) from models/; fmodel (+ its settings) when
    Redis is there. Returns fmodel's feature rows (or None)."""
    shutil.copy(os.path.join(ROOT, "models", "seed.json"), d)
    shutil.copy(os.path.join(ROOT, "models", "iris.json"), d)
    write_swap(d, 0, corrupt=False)
    if redis_url is None:
        return None
    from predictd.export import export
    from sklearn.linear_model import LogisticRegression
    rnd = random.Random(1)
    X = [[rnd.uniform(-2, 2), rnd.uniform(-2, 2)] for _ in range(N_USERS)]
    y = [int(a + b > 0) for a, b in X]
    export(LogisticRegression().fit(X, y), os.path.join(d, "fmodel.json"),
           feature_names=["fa", "fb"], name="fmodel")
    with open(os.path.join(d, "fmodel.settings.json"), "w") as f:
        json.dump({"feature_source": {"redis": redis_url, "key": "u:{user_id}"}}, f)
    return X


def write_swap(d, n, corrupt):
    """swap.json: iris with version n, or a truncated file; written whole then renamed."""
    with open(os.path.join(ROOT, "models", "iris.json"), encoding="utf-8") as f:
        doc = json.load(f)
    doc["model_version"] = str(n + 1)
    text = json.dumps(doc)
    tmp = os.path.join(d, ".swap.tmp")
    with open(tmp, "w") as f:
        f.write(text[: len(text) // 2] if corrupt else text)
    os.replace(tmp, os.path.join(d, "swap.json"))


# ---------------------------------------------------------------- requests

def http(method, path, body=b"", headers=None):
    hdrs = {"Host": HOST}
    if body or method == "POST":
        hdrs["Content-Length"] = str(len(body))
    hdrs.update(headers or {})
    head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in hdrs.items())
    return head.encode("latin-1") + b"\r\n" + body


def js(obj):
    return json.dumps(obj).encode()


def v2_binary(bad=False):
    head = js({"inputs": [{"name": "input-0", "shape": [1, 4], "datatype": "FP64",
                           "parameters": {"binary_data_size": 32}}]})
    raw = struct.pack("<4d", 5.1, 3.5, 1.4, 0.2)
    n = len(head) + (100 if bad else 0)
    return head + raw, {"Inference-Header-Content-Length": str(n),
                        "Content-Type": "application/octet-stream"}


def traffic(features):
    """(weight, name, bytes of one request, statuses it may get). Models being reloaded or
    unloaded may answer 404/503 on their routes; the feature model 503/504 in an outage."""
    seed = js({"feature1": 1.5, "feature2": 2.5})
    iris_v1 = js({"instances": [[5.1, 3.5, 1.4, 0.2], [6.2, 3.4, 5.4, 2.3]]})
    iris_v2 = js({"inputs": [{"name": "input-0", "shape": [2, 4], "datatype": "FP64",
                              "data": [5.1, 3.5, 1.4, 0.2, 6.2, 3.4, 5.4, 2.3]}]})
    mlflow = js({"dataframe_split": {"columns": ["feature1", "feature2"],
                                     "data": [[1, 2], [3, 4]]}})
    v2b, v2b_h = v2_binary()
    v2bad, v2bad_h = v2_binary(bad=True)
    big = b'{"feature1": 1, "feature2": ' + b"1" * (MAX_BODY + 10) + b"}"
    gone = {404, 503}  # unloaded / reloading
    t = [
        (8, "health", http("GET", "/health"), {200}),
        (3, "v2 ready", http("GET", "/v2/health/ready"), {200}),
        (2, "models", http("GET", "/models"), {200}),
        (1, "metrics", http("GET", "/metrics"), {200}),
        (10, "predict", http("POST", "/predict", seed, JSON_CT), {200}),
        (5, "predict_blocking", http("POST", "/predict_blocking", seed, JSON_CT), {200}),
        (5, "predict_non_blocking", http("POST", "/predict_non_blocking", seed, JSON_CT),
         {200}),
        (6, "v1 iris", http("POST", "/v1/models/iris:predict", iris_v1), {200} | gone),
        (6, "v2 iris json", http("POST", "/v2/models/iris/infer", iris_v2), {200} | gone),
        (4, "v2 iris binary", http("POST", "/v2/models/iris/infer", v2b, v2b_h),
         {200} | gone),
        (4, "v2 swap", http("POST", "/v2/models/swap/infer", iris_v2), {200} | gone),
        (4, "mlflow", http("POST", "/invocations", mlflow, JSON_CT), {200}),
        (3, "bad json", http("POST", "/predict", b'{"feature1": ', JSON_CT), {422}),
        (3, "bad type", http("POST", "/predict", js({"feature1": "x"}), JSON_CT), {422}),
        (2, "v1 bad", http("POST", "/v1/models/iris:predict", js({"instances": 3})),
         {400} | gone),
        (2, "v2 binary bad", http("POST", "/v2/models/iris/infer", v2bad, v2bad_h),
         {400} | gone),
        (2, "mlflow bad", http("POST", "/invocations", js({"nope": 1}), JSON_CT), {400}),
        (2, "404", http("GET", "/no/such/path"), {404}),
        (2, "405", http("DELETE", "/predict"), {405}),
        (1, "413", http("POST", "/predict", big, JSON_CT), {413}),
        (1, "garbage", b"\x01\x02 NOT HTTP\r\n\r\n", {400}),
    ]
    if features is not None:
        t += [(6, "features", http("POST", "/models/fmodel/predict",
                                   js({"user_id": random.randrange(N_USERS)}), JSON_CT),
               {200, 503, 504}),
              (1, "features unknown", http("POST", "/models/fmodel/predict",
                                           js({"user_id": "nobody"}), JSON_CT),
               {404, 422, 503, 504})]
    return t


class Tally:
    """What the clients did; one lock (Python threads)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.attempts = 0        # requests begun (whole or partial)
        self.answered = 0        # complete answers read
        self.disconnects = 0     # deliberate: mid-request or mid-answer
        self.unanswered = []     # (name, reason) of requests that got no answer
        self.bad_status = []     # (name, status) outside the allowed set
        self.by_status = {}

    def add(self, **kw):
        with self.lock:
            for k, v in kw.items():
                setattr(self, k, getattr(self, k) + v)

    def answer(self, name, status, allowed):
        with self.lock:
            self.answered += 1
            self.by_status[status] = self.by_status.get(status, 0) + 1
            if status not in allowed and len(self.bad_status) < 100:
                self.bad_status.append((name, status))

    def lost(self, name, reason):
        with self.lock:
            if len(self.unanswered) < 100:
                self.unanswered.append((name, reason))
            else:
                self.unanswered.append(None)


def client(port, stop, table, tally, seed):
    """Sends random requests until stop is set."""
    rnd = random.Random(seed)
    weights = [w for w, *_ in table]
    sock = None
    while not stop.is_set():
        _, name, raw, allowed = rnd.choices(table, weights)[0]
        if name == "features":  # a fresh entity each time
            raw = http("POST", "/models/fmodel/predict",
                       js({"user_id": rnd.randrange(N_USERS)}), JSON_CT)
        kind = rnd.random()
        if sock is None or rnd.random() < 0.3:
            sock = close(sock)
            try:
                sock = socket.create_connection((HOST, port), timeout=SOCK_TIMEOUT)
            except OSError as e:
                tally.add(attempts=1)
                tally.lost(name, f"connect: {e}")
                continue
        tally.add(attempts=1)
        try:
            if kind < 0.03:  # mid-request: half of it, then close
                sock.sendall(raw[: max(1, len(raw) // 2)])
                tally.add(disconnects=1)
                sock = close(sock)
                continue
            sock.sendall(raw)
            if kind < 0.06:  # mid-answer: close before reading (or after a few bytes)
                if rnd.random() < 0.5:
                    sock.recv(7)
                tally.add(disconnects=1)
                sock = close(sock)
                continue
            r = pdtest.read_response(sock)
        except (OSError, ValueError, ConnectionError) as e:
            if name in ("413", "garbage") and isinstance(e, (ConnectionResetError,
                                                             BrokenPipeError)):
                # the server answers and closes; our send of the rest may be reset before
                # we read the answer: the kernel dropped it, not the server
                tally.add(disconnects=1)
            else:
                tally.lost(name, repr(e))
            sock = close(sock)
            continue
        tally.answer(name, r.status, allowed)
        if r.headers.get("connection", "").lower() == "close":
            sock = close(sock)
    close(sock)


def close(sock):
    if sock is not None:
        pdtest.forget(sock)
        try:
            sock.close()
        except OSError:
            pass
    return None


# ---------------------------------------------------------------- the server, sampled

def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def scrape(port):
    """{name{labels}: value} of /metrics (plain parsing: name, labels text, value)."""
    r = pdtest.request(port, "GET", "/metrics", timeout=SOCK_TIMEOUT)
    out = {}
    for line in r.body.decode().splitlines():
        if line and not line.startswith("#"):
            key, _, val = line.rpartition(" ")
            out[key] = float(val)
    return out


def family(m, name):
    """{labels text: value} of one metric family."""
    return {k[len(name):]: v for k, v in m.items()
            if k.startswith(name) and (len(k) == len(name) or k[len(name)] == "{")}


def label(labels, key):
    for part in labels.strip("{}").split('",'):
        k, _, v = part.partition('="')
        if k == key:
            return v.rstrip('"')
    return None


def balance(m, tally, scraped):
    """Failures of the counters' balance (the server must be quiet)."""
    bad = []
    sub = family(m, "predictd_pool_jobs_submitted_total")
    jobs = family(m, "predictd_pool_jobs_total")
    depth = family(m, "predictd_queue_depth")
    for labels, n in sub.items():
        model = label(labels, "model")
        done = sum(v for k, v in jobs.items() if label(k, "model") == model and
                   label(k, "outcome") in ("completed", "canceled", "expired"))
        if done != n:
            bad.append(f"jobs of {model}: submitted {n:.0f} != completed+canceled+expired "
                       f"{done:.0f}")
    for labels, n in depth.items():
        if n:
            bad.append(f"queue of {label(labels, 'model')} not empty: {n:.0f}")
    if not sub:
        bad.append("no predictd_pool_jobs_submitted_total in /metrics")
    totals = {o: sum(v for k, v in jobs.items() if label(k, "outcome") == o)
              for o in ("completed", "canceled", "expired", "rejected")}
    totals["submitted"] = sum(sub.values())
    in_flight = m.get("predictd_http_requests_in_flight", -1)
    if in_flight != 1:  # the scrape itself
        bad.append(f"requests in flight {in_flight:.0f}, expected 1 (this scrape)")
    answered = sum(family(m, "predictd_http_requests_total").values())
    low = tally.answered + scraped
    high = tally.attempts + scraped + 1
    if not low <= answered <= high:
        bad.append(f"the server answered {answered:.0f} requests, clients read {low} and "
                   f"began {high}")
    return bad, answered, {k: int(v) for k, v in totals.items()}


class Soak:
    def __init__(self, a):
        self.a = a
        self.tmp = tempfile.mkdtemp(prefix="pd-soak-")
        self.repo = os.path.join(self.tmp, "repo")
        os.mkdir(self.repo)
        self.redis = None
        self.samples = []
        self.failures = []
        self.events = {"swaps": 0, "corrupt_swaps": 0, "sighups": 0, "unloads": 0,
                       "loads": 0, "outages": 0}
        self.scraped = 0
        self.stop = threading.Event()

    # -- set-up
    def start(self):
        url = None
        if pdredis.available():
            self.redis = pdredis.RedisServer().start()
            url = self.redis.url
        self.features = write_repo(self.repo, url)
        if self.redis:
            self.redis.load("u:{}", ["fa", "fb"], self.features)
        tok = os.path.join(self.tmp, "token")
        with open(tok, "w") as f:
            f.write(TOKEN)
        self.port = pdtest.free_port()
        self.log = open(os.path.join(self.tmp, "server.log"), "wb")
        self.proc = subprocess.Popen(
            [self.a.bin, "serve", "--host", HOST, "--port", str(self.port), "--workers", "2",
             "--default-model", "seed", "--model-control", "explicit", "--admin-token-file",
             tok, "--max-body-size", str(MAX_BODY), "--feature-timeout-ms", "500", self.repo],
            stdout=subprocess.DEVNULL, stderr=self.log)
        pdtest.wait_ready(self.port, "/health", 30.0, proc=self.proc)
        if self.redis:
            self.wait_source_up()

    def wait_source_up(self):
        deadline = time.monotonic() + SETTLE_S
        while time.monotonic() < deadline:
            m = self.metrics()
            up = family(m, "predictd_feature_source_up")
            if up and all(v == 1 for v in up.values()):
                return True
            time.sleep(0.2)
        return False

    def metrics(self):
        self.scraped += 1
        return scrape(self.port)

    # -- background actions
    def reloader(self):
        n, last_control = 0, time.monotonic()
        while not self.stop.wait(SWAP_EVERY_S):
            n += 1
            corrupt = n % 7 == 0
            write_swap(self.repo, n, corrupt)
            self.events["swaps"] += 1
            self.events["corrupt_swaps"] += corrupt
            self.proc.send_signal(signal.SIGHUP)
            self.events["sighups"] += 1
            if time.monotonic() - last_control >= CONTROL_EVERY_S:
                last_control = time.monotonic()
                auth = {"Authorization": f"Bearer {TOKEN}"}
                for op in ("unload", "load"):
                    r = pdtest.request(self.port, "POST", f"/v2/repository/models/iris/{op}",
                                       b"", auth, timeout=SOCK_TIMEOUT)
                    self.scraped += 1  # counted like a scrape: not a client's
                    if r.status != 200:
                        self.failures.append(f"control {op} of iris answered {r.status}")
                    self.events[op + "s"] += 1
                    time.sleep(0.5)
        write_swap(self.repo, n + 1, corrupt=False)  # end with a good file
        self.proc.send_signal(signal.SIGHUP)

    def outages(self):
        while not self.stop.wait(OUTAGE_EVERY_S):
            self.redis.stop()
            self.events["outages"] += 1
            if self.stop.wait(OUTAGE_S):
                break
            self.redis.start()
            self.redis.load("u:{}", ["fa", "fb"], self.features)
        if self.redis.proc is None:
            self.redis.start()
            self.redis.load("u:{}", ["fa", "fb"], self.features)

    def sampler(self):
        t0 = time.monotonic()
        while not self.stop.wait(SAMPLE_S):
            if self.proc.poll() is not None:
                self.failures.append(f"the server exited with {self.proc.returncode}")
                self.stop.set()
                return
            m = self.metrics()
            self.samples.append({
                "t": round(time.monotonic() - t0, 1), "rss_kib": rss_kib(self.proc.pid),
                "fds": fds(self.proc.pid),
                "open_connections": m.get("predictd_http_open_connections"),
                "in_flight": m.get("predictd_http_requests_in_flight"),
                "answered": sum(family(m, "predictd_http_requests_total").values())})

    # -- quiet points
    def quiet_fds(self):
        """Descriptors once no client is connected and Redis (if any) is up."""
        deadline = time.monotonic() + SETTLE_S
        while time.monotonic() < deadline:
            m = self.metrics()
            if m.get("predictd_http_open_connections", 99) <= 1:
                break
            time.sleep(0.2)
        if self.redis:
            self.wait_source_up()
        time.sleep(1.0)  # connections the scrape closed
        return fds(self.proc.pid)

    # -- the run
    def run(self):
        a = self.a
        table = traffic(self.features)
        tally = Tally()
        self.tally = tally
        # a first pass of every request, so that lazily opened things are open
        one = threading.Event()
        t = threading.Thread(target=client, args=(self.port, one, table, tally, 0))
        t.start()
        time.sleep(min(5.0, a.seconds * 0.05))
        one.set()
        t.join(SOCK_TIMEOUT + 5)
        fds_start = self.quiet_fds()
        helpers = [threading.Thread(target=self.sampler), threading.Thread(target=self.reloader)]
        if self.redis:
            helpers.append(threading.Thread(target=self.outages))
        workers = [threading.Thread(target=client, args=(self.port, self.stop, table, tally, i + 1))
                   for i in range(CLIENTS)]
        t0 = time.monotonic()
        for th in helpers + workers:
            th.start()
        warmup = min(WARMUP_MAX_S, a.seconds * WARMUP_FRACTION)
        while time.monotonic() - t0 < a.seconds and not self.stop.is_set():
            time.sleep(1.0)
            done = time.monotonic() - t0
            if a.progress and int(done) % 30 == 0:
                print(f"  {done:4.0f}s  answered {tally.answered}  rss "
                      f"{self.samples[-1]['rss_kib'] if self.samples else 0} KiB", flush=True)
        self.stop.set()
        for th in workers + helpers:
            th.join(SOCK_TIMEOUT * 2 + OUTAGE_S + 30)
            if th.is_alive():
                self.failures.append(f"thread {th.name} did not finish")
        elapsed = time.monotonic() - t0
        time.sleep(1.0)
        fds_end = self.quiet_fds()
        m = self.metrics()
        bad, answered, jobs = balance(m, tally, self.scraped)
        self.failures += bad
        out = self.judge(tally, warmup, fds_start, fds_end, answered, elapsed)
        out["jobs"] = jobs
        return out

    def judge(self, tally, warmup, fds_start, fds_end, answered, elapsed):
        after = [s for s in self.samples if s["t"] >= warmup]
        if len(after) < RSS_WINDOW * 2:
            self.failures.append(f"only {len(after)} samples after the warm-up")
            base = end = 0
        else:
            base = statistics.median(s["rss_kib"] for s in after[:RSS_WINDOW])
            end = statistics.median(s["rss_kib"] for s in after[-RSS_WINDOW:])
            if end > base * (1 + RSS_GROWTH):
                self.failures.append(f"RSS grew {100 * (end / base - 1):.1f}% after the "
                                     f"warm-up: {base:.0f} -> {end:.0f} KiB")
        if fds_end > fds_start:
            self.failures.append(f"descriptors grew: {fds_start} -> {fds_end}")
        if tally.unanswered:
            self.failures.append(f"{len(tally.unanswered)} requests unanswered, e.g. "
                                 f"{[u for u in tally.unanswered if u][:5]}")
        if tally.bad_status:
            self.failures.append(f"unexpected statuses, e.g. {tally.bad_status[:5]}")
        return {
            "seconds": round(elapsed, 1), "requests_begun": tally.attempts,
            "answers_read": tally.answered, "deliberate_disconnects": tally.disconnects,
            "server_answered": int(answered), "req_per_s": round(tally.attempts / elapsed),
            "statuses": dict(sorted(tally.by_status.items())),
            "rss_kib_after_warmup": base, "rss_kib_end": end,
            "rss_kib_max": max((s["rss_kib"] for s in self.samples), default=0),
            "fds_start": fds_start, "fds_end": fds_end,
            "fds_max": max((s["fds"] for s in self.samples), default=0),
            "redis": self.redis is not None, **self.events}

    def finish(self):
        code = None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                code = self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
                self.failures.append("the server did not drain within 60 s of SIGTERM")
        else:
            code = self.proc.returncode
        if code not in (0, None):
            self.failures.append(f"the server exited with {code}")
        if self.redis:
            self.redis.close()
        self.log.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", required=True, help="the predictd binary (release build)")
    ap.add_argument("--seconds", type=float, default=600.0)
    ap.add_argument("--out", default="build/soak", help="directory for soak.json, summary.txt")
    ap.add_argument("--quiet", dest="progress", action="store_false")
    a = ap.parse_args()
    if a.seconds < 20:
        ap.error("--seconds: at least 20 (a warm-up and enough samples)")
    os.makedirs(a.out, exist_ok=True)
    s = Soak(a)
    summary = {}
    try:
        s.start()
        print(f"soak: predictd pid {s.proc.pid} on {HOST}:{s.port} for {a.seconds:.0f} s"
              f" (redis: {'yes' if s.redis else 'no'})", flush=True)
        summary = s.run()
    finally:
        s.stop.set()
        s.finish()
        with open(os.path.join(s.tmp, "server.log"), "rb") as f:
            log_tail = f.read()[-4000:].decode("utf-8", "replace")
        shutil.rmtree(s.tmp, ignore_errors=True)
    summary["failures"] = s.failures
    with open(os.path.join(a.out, "soak.json"), "w") as f:
        json.dump({"summary": summary, "samples": s.samples}, f, indent=1)
    text = "\n".join(f"{k}: {v}" for k, v in summary.items())
    with open(os.path.join(a.out, "summary.txt"), "w") as f:
        f.write(text + "\n")
    print(text)
    if s.failures:
        print("soak: FAILED\n  " + "\n  ".join(s.failures) + "\nserver log tail:\n" + log_tail)
        return 1
    print("soak: passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
