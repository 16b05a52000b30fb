#!/usr/bin/python3
"""bench/run.py - `make bench`: predictd against the article's FastAPI app and nginx, side by
side in one run on this machine, written to bench/results/ (results.md, results.json, PNGs).

Scenarios (their targets are in README.md, "Benchmarks"):
  1. tiny model (seed, 2 features, logistic): predictd /predict (inline) and
     /predict_non_blocking (always the pool) vs FastAPI /predict_non_blocking vs nginx 200.
  2. heavy model (random forest, 300 trees, depth 12): predictd /predict vs FastAPI.
  3. responsiveness: /health latency over time while the heavy model saturates the workers,
     for predictd (pool), predictd /predict_blocking, FastAPI blocking and non-blocking.

Every load is bounded (wrk -d); every server is on 127.0.0.1 on a free port and is stopped.
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
sys.path.insert(0, os.path.join(bl.ROOT, "models"))

RESULTS = os.path.join(bl.ROOT, "bench", "results")
FASTAPI_APP = os.path.join(bl.ROOT, "tests", "e2e", "fastapi_seed_app.py")
BODY = '{"feature1": 5.1, "feature2": 3.5}'
JSON_HDR = {"Content-Type": "application/json"}


def prepare_models(tmp, heavy_trees, heavy_depth):
    """Trains the seed and heavy models once; returns paths of (json, pickle) for each."""
    import build as demo  # models/build.py
    from predictd.export import export

    paths = {}
    for name, est in (("seed", demo.train_seed()),
                      ("heavy", demo.train_heavy_forest(n_trees=heavy_trees, depth=heavy_depth))):
        js = os.path.join(tmp, f"{name}.json")
        pk = os.path.join(tmp, f"{name}.pkl")
        export(est, js, feature_names=["feature1", "feature2"], name=name)
        with open(pk, "wb") as f:
            pickle.dump(est, f)
        paths[name] = (js, pk)
    return paths


def predictd_argv(port, models, extra=()):
    return [bl.PREDICTD, "serve", "--host", "127.0.0.1", "--port", str(port),
            "--log-level", "warning", *extra, *models]


def fastapi_argv(port):
    return [bl.PY, FASTAPI_APP, "--port", str(port)]


def fastapi_env(pickle_path):
    env = dict(os.environ)
    env["PD_SKLEARN_MODEL"] = pickle_path
    return env


def _median_run(targets, rounds, secs, conns):
    """targets: {label: (url, method, body, pid or None)}; runs wrk on each in turn,
    `rounds` times (alternating, so that drifts of the machine hit every server alike),
    and keeps the round with the median requests/s for each label. With a pid, the
    server's CPU time per answered request is measured too (cpu_us_per_req)."""
    runs = {k: [] for k in targets}
    for _ in range(rounds):
        for label, (url, method, body, pid) in targets.items():
            hdr = JSON_HDR if body else None
            cpu0 = bl.cpu_seconds(pid) if pid else 0.0
            r = bl.wrk(url, method, body, hdr, seconds=secs, conns=conns)
            if pid and r["requests"]:
                r["cpu_us_per_req"] = (bl.cpu_seconds(pid) - cpu0) * 1e6 / r["requests"]
            runs[label].append(r)
    return {k: sorted(v, key=lambda r: r["rps"])[len(v) // 2] for k, v in runs.items()}


def scenario_tiny(paths, secs, conns, rounds):
    seed_js, seed_pk = paths["seed"]
    p1, p2, pf = bl.free_port(), bl.free_port(), bl.free_port()
    with bl.nginx_fixed_200() as (pn, _), \
            bl.server(predictd_argv(p1, [seed_js]), p1) as s1, \
            bl.server(predictd_argv(p2, [seed_js], ["--inline-below-us", "0"]), p2) as s2, \
            bl.server(fastapi_argv(pf), pf, env=fastapi_env(seed_pk)) as sf:
        u = "http://127.0.0.1:{}{}".format
        return _median_run({
            "nginx 200": (u(pn, "/"), "GET", None, None),
            "predictd /predict": (u(p1, "/predict"), "POST", BODY, s1.pid),
            "predictd /predict_non_blocking": (u(p1, "/predict_non_blocking"), "POST", BODY,
                                               s1.pid),
            "predictd /predict (inline off)": (u(p2, "/predict"), "POST", BODY, s2.pid),
            "FastAPI /predict_non_blocking": (u(pf, "/predict_non_blocking"), "POST", BODY,
                                              sf.pid),
        }, rounds, secs, conns)


def scenario_heavy(paths, secs, conns):
    res = {}
    port = bl.free_port()
    with bl.server(predictd_argv(port, [paths["heavy"][0]]), port):
        res["predictd /predict"] = bl.wrk(f"http://127.0.0.1:{port}/predict", "POST", BODY,
                                          JSON_HDR, seconds=secs, conns=conns)
    port = bl.free_port()
    with bl.server(fastapi_argv(port), port, env=fastapi_env(paths["heavy"][1])):
        res["FastAPI /predict_non_blocking"] = bl.wrk(
            f"http://127.0.0.1:{port}/predict_non_blocking", "POST", BODY, JSON_HDR,
            seconds=secs, conns=conns)
    return res


def _under_load(port, path, secs, conns, server_side=False):
    """Loads `path` with wrk while probing /health; returns (samples, wrk result,
    server-side p99 bound of /health in ms from predictd's own histogram, or None)."""
    out = {}
    t = threading.Thread(target=lambda: out.update(w=bl.wrk(
        f"http://127.0.0.1:{port}{path}", "POST", BODY, JSON_HDR, seconds=secs, conns=conns)))
    t.start()
    samples = bl.probe_health(port, max(1.0, secs - 1.0))
    t.join(timeout=secs + 90)
    inside = None
    if server_side:
        _, text = bl.http_get(port, "/metrics")
        b = bl.histogram_bound(text.decode(), "predictd_http_request_duration_seconds",
                               'route="/health"', 0.99)
        inside = None if b is None else b * 1000
    return samples, out.get("w"), inside


def scenario_responsive(paths, secs, conns):
    res = {}
    heavy_js, heavy_pk = paths["heavy"]
    for label, path in (("predictd non-blocking", "/predict_non_blocking"),
                        ("predictd blocking", "/predict_blocking")):
        port = bl.free_port()
        with bl.server(predictd_argv(port, [heavy_js]), port):
            res[label] = _under_load(port, path, secs, conns, server_side=True)
    for label, path in (("FastAPI non-blocking", "/predict_non_blocking"),
                        ("FastAPI blocking", "/predict_blocking")):
        port = bl.free_port()
        with bl.server(fastapi_argv(port), port, env=fastapi_env(heavy_pk)):
            res[label] = _under_load(port, path, secs, conns)
    return res


def ratio(a, b):
    return a / b if b else float("nan")


def write_results(tiny, heavy, resp, args):
    os.makedirs(RESULTS, exist_ok=True)
    fa_tiny = tiny["FastAPI /predict_non_blocking"]["rps"]
    ngx = tiny["nginx 200"]["rps"]
    lines = ["# predictd benchmark", "",
             f"One run of `make bench` on this machine ({os.cpu_count()} CPUs); wrk "
             f"{args.seconds}s, {args.conns} connections, 1 thread per run; scenario 1 is the "
             f"median of {args.rounds} alternating rounds.", "",
             "## 1. Tiny model (seed: 2 features, logistic regression)", "",
             "| server | requests/s | p50 ms | p99 ms | server CPU µs/request | × FastAPI | "
             "× nginx |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for k, r in tiny.items():
        cpu = r.get("cpu_us_per_req")
        lines.append(f"| {k} | {r['rps']:.0f} | {r['p50_ms']:.3f} | {r['p99_ms']:.3f} | "
                     f"{'-' if cpu is None else f'{cpu:.1f}'} | "
                     f"{ratio(r['rps'], fa_tiny):.1f} | {ratio(r['rps'], ngx):.2f} |")
    fa_heavy = heavy["FastAPI /predict_non_blocking"]["rps"]
    lines += ["", f"## 2. Heavy model (random forest, {args.heavy_trees} trees, depth "
              f"{args.heavy_depth})", "",
              "| server | requests/s | p50 ms | p99 ms | × FastAPI |",
              "| --- | ---: | ---: | ---: | ---: |"]
    for k, r in heavy.items():
        lines.append(f"| {k} | {r['rps']:.1f} | {r['p50_ms']:.3f} | {r['p99_ms']:.3f} | "
                     f"{ratio(r['rps'], fa_heavy):.1f} |")
    lines += ["", "## 3. /health while the heavy model saturates the workers", "",
              "Latency as the probing client sees it (a Python client on the same 2 cores as "
              "the server, wrk and the workers, so it includes the client's own scheduling); "
              "the last column is predictd's own histogram of the same requests, from first "
              "byte read to answer written.", "",
              "| server, prediction path | /health p50 ms | p99 ms | max ms | probes | "
              "server-side p99 ≤ ms |",
              "| --- | ---: | ---: | ---: | ---: | ---: |"]
    summary = {}
    for k, (samples, _, inside) in resp.items():
        lat = [ms for _, ms in samples]
        summary[k] = {"p50_ms": bl.percentile(lat, 50), "p99_ms": bl.percentile(lat, 99),
                      "max_ms": max(lat) if lat else float("nan"), "n": len(lat)}
        s = summary[k]
        s["server_p99_le_ms"] = inside
        lines.append(f"| {k} | {s['p50_ms']:.3f} | {s['p99_ms']:.3f} | {s['max_ms']:.1f} | "
                     f"{s['n']} | {'-' if inside is None else f'{inside:g}'} |")
    lines += ["", "![throughput](throughput.png)", "", "![responsiveness](responsiveness.png)", ""]
    with open(os.path.join(RESULTS, "results.md"), "w") as f:
        f.write("\n".join(lines))
    strip = lambda d: {k: {kk: vv for kk, vv in v.items() if kk != "raw"} for k, v in d.items()}
    with open(os.path.join(RESULTS, "results.json"), "w") as f:
        json.dump({"tiny": strip(tiny), "heavy": strip(heavy), "health_under_load": summary,
                   "health_samples": {k: v[0] for k, v in resp.items()}}, f, indent=1)
    plot(tiny, heavy, resp)
    print("\n".join(lines))


def plot(tiny, heavy, resp):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    for ax, (title, data) in zip(axes, (("tiny model", tiny), ("heavy model", heavy))):
        names = list(data)
        ax.barh(names, [data[n]["rps"] for n in names], color="#4477aa")
        ax.set_xscale("log")
        ax.set_xlabel("requests/s (log)")
        ax.set_title(title)
    fig.tight_layout()
    fig.savefig(os.path.join(RESULTS, "throughput.png"), dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(10, 5))
    for k, (samples, _, _) in resp.items():
        ax.plot([t for t, _ in samples], [ms for _, ms in samples], label=k, lw=1)
    ax.set_yscale("log")
    ax.set_xlabel("time under load (s)")
    ax.set_ylabel("GET /health latency (ms, log)")
    ax.set_title("Is the event loop free? /health while the heavy model runs")
    ax.axhline(1.0, color="grey", ls="--", lw=0.8)
    ax.legend()
    fig.tight_layout()
    fig.savefig(os.path.join(RESULTS, "responsiveness.png"), dpi=110)
    plt.close(fig)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=int, default=5, help="wrk duration per run")
    ap.add_argument("--conns", type=int, default=64, help="wrk connections")
    ap.add_argument("--rounds", type=int, default=3, help="alternating rounds (median kept)")
    ap.add_argument("--heavy-trees", type=int, default=300)
    ap.add_argument("--heavy-depth", type=int, default=12)
    args = ap.parse_args()
    bl.raise_nofile()
    with tempfile.TemporaryDirectory(prefix="pd-bench-") as tmp:
        paths = prepare_models(tmp, args.heavy_trees, args.heavy_depth)
        tiny = scenario_tiny(paths, args.seconds, args.conns, args.rounds)
        heavy = scenario_heavy(paths, args.seconds, args.conns)
        resp = scenario_responsive(paths, args.seconds + 1, 16)
    write_results(tiny, heavy, resp, args)


if __name__ == "__main__":
    main()
