#!/usr/bin/python3
"""bench/features.py - online feature lookup from Redis, side by side in one run (part of
`make bench`); the requests name an entity, the features come from Redis:

  1. predictd /predict on the article's seed model whose settings name a Redis feature
     source: the entity's features read on the loop with hiredis (one round trip), the
     model run as the pipeline decides;
  2. the article's FastAPI app extended the way it advises (bench/fastapi_features_app.py
     /predict_async): redis.asyncio awaited on the event loop, then
     run_in_threadpool(model.predict)  -- the target: predictd >= 20x its requests/s;
  3. the pattern the article warns against (/predict_threadpool): a synchronous Redis call
     inside run_in_threadpool, then model.predict in the thread pool too;
  4. predictd with 100 entities per request (one pipelined round trip per request).

Same model (pickle and predictd export of one estimator), same Redis, same N_USERS
entities; wrk picks a random user_id for every request; /health is probed on its own
connection during each load. Answers are checked against scikit-learn first. All servers
run at once and the loads alternate for --rounds rounds (the median round is kept).
Writes bench/results/features.md and features.json and prints the table. Everything
listens on 127.0.0.1 on free ports; every load is bounded in time.
"""
import argparse
import json
import os
import pickle
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as bl  # noqa: E402

sys.path.insert(0, os.path.join(bl.ROOT, "python"))
import pdredis  # noqa: E402  (tests/, on the path through benchlib)

RESULTS = os.path.join(bl.ROOT, "bench", "results")
APP = os.path.join(bl.ROOT, "bench", "fastapi_features_app.py")
JSON_HDR = {"Content-Type": "application/json"}
N_USERS = 10000
BATCH = 100          # entities per request in scenario 4
BATCH_CONNS = 8      # its connections: 64 x 100 keys queued in one Redis exceed 50 ms
CHECK_USERS = 25     # entities whose answers are compared with scikit-learn


def lua_random_user(batch=0):
    """A wrk request() that sends {"user_id": <random>} (or a list of `batch` of them)."""
    if not batch:
        body = "'{\"user_id\": ' .. math.random(0, %d) .. '}'" % (N_USERS - 1)
    else:
        body = ("(function() local t = {} for i = 1, %d do t[i] = '{\"user_id\": ' .. "
                "math.random(0, %d) .. '}' end return '[' .. table.concat(t, ',') .. ']' "
                "end)()" % (batch, N_USERS - 1))
    return f"request = function() return wrk.format(nil, nil, nil, {body}) end\n"


def prepare(tmp, redis_url):
    """The seed model as predictd JSON (+ settings naming Redis) and as a pickle; the
    entities' feature rows."""
    from predictd import demo
    from predictd.export import export
    from sklearn.datasets import load_breast_cancer
    est = demo.train_seed()
    js, pk = os.path.join(tmp, "seed.json"), os.path.join(tmp, "seed.pkl")
    export(est, js, feature_names=demo.SEED_FEATURES, name="seed")
    with open(os.path.join(tmp, "seed.settings.json"), "w") as f:
        json.dump({"feature_source": {"redis": redis_url, "key": "user:{user_id}"}}, f)
    with open(pk, "wb") as f:
        pickle.dump(est, f)
    base = load_breast_cancer().data[:, :2]
    X = base[[i % len(base) for i in range(N_USERS)]]
    return est, js, pk, X


def wait_source_up(port, timeout=20.0):
    """Waits until /v2/health/ready reports the feature source up."""
    import time
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, body = bl.http_get(port, "/v2/health/ready")
        if status == 200 and b'"state":"up"' in body:
            return
        time.sleep(0.05)
    raise TimeoutError("predictd's feature source never came up")


def check_answers(port, path, est, X):
    """The server's answer for CHECK_USERS entities equals scikit-learn's on their rows."""
    import http.client
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    want = est.predict(X[:CHECK_USERS])
    for i in range(CHECK_USERS):
        c.request("POST", path, body=json.dumps({"user_id": i}), headers=JSON_HDR)
        r = c.getresponse()
        body = json.loads(r.read())
        assert r.status == 200 and body == {"prediction": int(want[i])}, (path, i, body)
    c.close()


def measure(port, path, secs, conns, batch=0):
    """wrk on path with random entities, /health probed meanwhile."""
    out = {}
    url = f"http://127.0.0.1:{port}{path}"
    bl.wrk(url, "POST", "{}", JSON_HDR, conns=conns, seconds=1, lua=lua_random_user(batch))
    t = threading.Thread(target=lambda: out.update(w=bl.wrk(
        url, "POST", "{}", JSON_HDR, conns=conns, seconds=secs, lua=lua_random_user(batch))))
    t.start()
    samples = bl.probe_health(port, max(1.0, secs - 1.0))
    t.join(timeout=secs + 90)
    w = out["w"]
    assert w["requests"] > 0 and w["non2xx"] == 0 and w["errors"] == 0, w["raw"]
    lat = [ms for _, ms in samples]
    w["health_p50_ms"] = bl.percentile(lat, 50)
    w["health_p99_ms"] = bl.percentile(lat, 99)
    w["health_max_ms"] = max(lat) if lat else float("nan")
    w["health_probes"] = len(lat)
    w["entities_per_s"] = w["rps"] * (batch or 1)
    return w


def run(args):
    """Every server up at once; the targets measured in turn, `rounds` times (alternating,
    so that the machine's drifts hit each alike); the median round by requests/s kept."""
    with tempfile.TemporaryDirectory(prefix="pd-features-") as tmp, \
            pdredis.RedisServer() as r:
        est, js, pk, X = prepare(tmp, r.url)
        from predictd import demo
        r.load("user:{}", demo.SEED_FEATURES, X)
        pp, pf = bl.free_port(), bl.free_port()
        pd_argv = [bl.PREDICTD, "serve", "--host", "127.0.0.1", "--port", str(pp),
                   "--log-level", "warning", js]
        fa_argv = [bl.PY, APP, "--port", str(pf), "--model", pk, "--redis", r.url]
        with bl.server(pd_argv, pp), bl.server(fa_argv, pf):
            wait_source_up(pp)
            targets = {  # label: (port, path, connections, entities per request)
                "predictd /predict": (pp, "/predict", args.conns, 0),
                f"predictd /predict, {BATCH} entities per request":
                    (pp, "/predict", BATCH_CONNS, BATCH),
                "FastAPI redis.asyncio + run_in_threadpool":
                    (pf, "/predict_async", args.conns, 0),
                "FastAPI sync redis in run_in_threadpool":
                    (pf, "/predict_threadpool", args.conns, 0),
            }
            for port, path, _, _ in targets.values():
                check_answers(port, path, est, X)
            runs = {k: [] for k in targets}
            for _ in range(args.rounds):
                for label, (port, path, conns, batch) in targets.items():
                    runs[label].append(measure(port, path, args.seconds, conns, batch))
    return {k: sorted(v, key=lambda w: w["rps"])[len(v) // 2] for k, v in runs.items()}


def report(res, args):
    p = res["predictd /predict"]
    fa = res["FastAPI redis.asyncio + run_in_threadpool"]
    ft = res["FastAPI sync redis in run_in_threadpool"]
    lines = ["# Online features from Redis", "",
             f"One run of `bench/features.py` ({os.cpu_count()} CPUs; predictd, Redis, the "
             f"FastAPI app, wrk and the /health prober share them); the article's seed model "
             f"(2 features), {N_USERS:,} entities in one Redis, a random entity per request; "
             f"wrk {args.seconds}s, {args.conns} connections ({BATCH_CONNS} for the "
             f"{BATCH}-entity requests); the median of {args.rounds} alternating rounds.", "",
             "| server | requests/s | entities/s | p50 ms | p99 ms | /health p50 ms | "
             "/health p99 ms | /health max ms |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for name, r in res.items():
        lines.append(f"| {name} | {r['rps']:.0f} | {r['entities_per_s']:.0f} | "
                     f"{r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['health_p50_ms']:.2f} | "
                     f"{r['health_p99_ms']:.2f} | {r['health_max_ms']:.1f} |")
    lines += ["", f"predictd / FastAPI with redis.asyncio (requests/s): "
              f"**{p['rps'] / fa['rps']:.1f}×** (target ≥ 20×); / FastAPI with sync redis in "
              f"the thread pool: **{p['rps'] / ft['rps']:.1f}×**.",
              f"FastAPI, awaited vs in the thread pool: {fa['rps'] / ft['rps']:.2f}× "
              "(the article's advice for I/O)."]
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--conns", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    bl.raise_nofile()
    res = run(args)
    text = report(res, args)
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, "features.md"), "w") as f:
        f.write(text)
    with open(os.path.join(RESULTS, "features.json"), "w") as f:
        json.dump({k: {kk: vv for kk, vv in v.items() if kk != "raw"} for k, v in res.items()},
                  f, indent=1)
    print(text)


if __name__ == "__main__":
    main()
