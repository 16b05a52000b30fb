"""test_deploy.py - the deployment files checked without a cluster or a container runtime:

  * every manifest under deploy/ parses (python3-yaml) and has its required fields; the
    Kubernetes ones reference each other consistently (selectors, the HPA's target, the
    models ConfigMap, kustomization.yaml listing every file);
  * the container of each workload (the Deployment, the KServe ServingRuntime) is started
    here as the manifest says - the Dockerfile's ENTRYPOINT + the manifest's args, the
    Dockerfile's ENV + the manifest's env (the downward API's limits.cpu as Kubernetes
    rounds it), its volumes laid out as Kubernetes lays them out (a ConfigMap mount is
    symlinks through ..data) - and each probe path, the Prometheus scrape path and a
    prediction are asked on it; only host and port are moved to a free loopback port
    after checking that the manifest's ports are the one predictd listens on;
  * the image and args are the ones `make image` builds and the Dockerfile starts;
  * docs/deployment.md lists exactly the environment variables `predictd serve --help`
    lists, with the same defaults (so the page cannot drift from the binary).
"""
import glob
import json
import math
import os
import re
import shutil
import signal
import subprocess

import pytest
import yaml

from conftest import HOST, PredictdServer, free_port, http_get, predictd_bin, request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEPLOY = os.path.join(ROOT, "deploy")
K8S = os.path.join(DEPLOY, "kubernetes")
KSERVE = os.path.join(DEPLOY, "kserve")
MODELS = os.path.join(ROOT, "models")
IRIS_ROW = {"instances": [[5.1, 3.5, 1.4, 0.2]]}


# ------------------------------------------------------------------ reading the files

def load_all():
    """{path: [documents]} for every YAML file under deploy/."""
    out = {}
    for path in sorted(glob.glob(os.path.join(DEPLOY, "**", "*.yaml"), recursive=True)):
        with open(path) as f:
            out[path] = [d for d in yaml.safe_load_all(f) if d is not None]
    return out


def docs_of(kind, directory=DEPLOY):
    return [d for p, ds in load_all().items() if p.startswith(directory) for d in ds
            if d.get("kind") == kind]


def one(kind, directory=DEPLOY):
    found = docs_of(kind, directory)
    assert len(found) == 1, f"expected one {kind} under {directory}, found {len(found)}"
    return found[0]


def dockerfile():
    """The runtime stage of the Dockerfile: {'entrypoint': [...], 'cmd': [...], 'env': {},
    'user': str, 'expose': [...]} (continuation lines joined)."""
    text = open(os.path.join(ROOT, "Dockerfile")).read()
    text = re.sub(r"\\\n", " ", re.sub(r"^\s*#.*\n", "", text, flags=re.M))
    stages = re.split(r"^FROM\s", text, flags=re.M)
    last = stages[-1]
    out = {"env": {}, "entrypoint": [], "cmd": [], "user": "", "expose": []}
    for line in last.splitlines():
        m = re.match(r"^(ENTRYPOINT|CMD|ENV|USER|EXPOSE)\s+(.*)$", line.strip())
        if not m:
            continue
        op, rest = m.groups()
        if op in ("ENTRYPOINT", "CMD"):
            out[op.lower()] = json.loads(rest)  # exec form only
        elif op == "ENV":
            out["env"].update(dict(kv.split("=", 1) for kv in rest.split()))
        elif op == "USER":
            out["user"] = rest.strip()
        else:
            out["expose"] += [int(p.split("/")[0]) for p in rest.split()]
    return out


def makefile_image():
    m = re.search(r"^IMAGE\s*\?=\s*(\S+)", open(os.path.join(ROOT, "Makefile")).read(), re.M)
    return m.group(1)


def help_text():
    return subprocess.run([predictd_bin(), "serve", "--help"], capture_output=True, text=True,
                          timeout=30).stdout


def help_defaults():
    """{'--flag': default or None} and {'PREDICTD_X': '--flag'} from --help."""
    defaults, variables = {}, {}
    for line in help_text().splitlines():
        m = re.match(r"^  (--[a-z-]+).*?(?:\(default ([^)]+)\) )?\[(PREDICTD_[A-Z_]+)\]$", line)
        if m:
            defaults[m.group(1)] = m.group(2)
            variables[m.group(3)] = m.group(1)
    return defaults, variables


# ------------------------------------------------------------------ a container, as Kubernetes runs it

def cpu_quantity(q):
    """A Kubernetes CPU quantity in cores ("2", "500m", 1.5)."""
    q = str(q)
    return int(q[:-1]) / 1000 if q.endswith("m") else float(q)


def container_env(container, image_env):
    """The environment Kubernetes gives the container: the image's ENV, then the
    manifest's env (valueFrom resourceFieldRef limits.cpu is rounded up, as the downward
    API does)."""
    env = dict(image_env)
    for e in container.get("env", []):
        if "value" in e:
            env[e["name"]] = str(e["value"])
        else:
            ref = e["valueFrom"]["resourceFieldRef"]
            assert ref["resource"] == "limits.cpu", ref
            limit = cpu_quantity(container["resources"]["limits"]["cpu"])
            env[e["name"]] = str(math.ceil(limit / cpu_quantity(ref.get("divisor", "1"))))
    if "PREDICTD_DOCS_DIR" in env:  # the image holds swagger-ui-dist's files copied from here
        env["PREDICTD_DOCS_DIR"] = os.path.join(ROOT, "web", "node_modules", "swagger-ui-dist")
    return env


def option(args, env, flag, default):
    """The value predictd takes for `flag`: the command line, else its variable, else
    the default."""
    for i, a in enumerate(args):
        if a == flag and i + 1 < len(args):
            return args[i + 1]
        if a.startswith(flag + "="):
            return a.split("=", 1)[1]
    return env.get("PREDICTD_" + flag[2:].upper().replace("-", "_"), default)


def listen_port(args, env):
    return int(option(args, env, "--port", "8000"))


def probe_port(probe, container):
    """A probe's port as a number (a name is looked up in the container's ports)."""
    port = probe["httpGet"]["port"]
    if isinstance(port, int):
        return port
    named = {p["name"]: p["containerPort"] for p in container["ports"] if "name" in p}
    assert port in named, f"probe port {port!r} is not a named port of the container"
    return named[port]


def configmap_mount(directory, data):
    """Lays out `data` as Kubernetes mounts a ConfigMap: a timestamped folder, ..data
    pointing at it, and one symlink per key through ..data."""
    os.makedirs(directory)
    ts = os.path.join(directory, "..2025_01_01_00_00_00.000000001")
    os.mkdir(ts)
    for key, value in data.items():
        with open(os.path.join(ts, key), "w") as f:
            f.write(value)
    os.symlink(os.path.basename(ts), os.path.join(directory, "..data"))
    for key in data:
        os.symlink(os.path.join("..data", key), os.path.join(directory, key))


class ManifestServer(PredictdServer):
    """predictd started as a manifest's container says, with every path in `paths`
    ({container path: local path}) moved and host/port moved to a free loopback port."""

    def __init__(self, container, paths):
        image = dockerfile()
        super().__init__()
        args = list(container.get("args") or image["cmd"])
        env = container_env(container, image["env"])

        def move(s):
            for inside, outside in paths.items():
                if s == inside or s.startswith(inside + "/") or s.startswith(inside + ":"):
                    return outside + s[len(inside):]
            return s

        args = [move(a) for a in args]
        env = {k: (":".join(move(p) for p in v.split(":")) if k == "PREDICTD_MODELS" else v)
               for k, v in env.items()}
        self.container_port = listen_port(args, env)
        self.port = free_port()
        for i, a in enumerate(args):  # the port moves wherever the manifest set it
            if a == "--port":
                args[i + 1] = str(self.port)
            elif a.startswith("--port="):
                args[i] = f"--port={self.port}"
        env.update(PREDICTD_HOST=HOST, PREDICTD_PORT=str(self.port))
        self.args = [self.binary, *args]
        self.env = dict({k: v for k, v in os.environ.items() if not k.startswith("PREDICTD_")},
                        **env)
        self.env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
        self.manifest_args, self.manifest_env = args, env


@pytest.fixture
def manifest_server():
    started = []

    def start(container, paths):
        srv = ManifestServer(container, paths)
        started.append(srv)
        return srv.start()

    yield start
    for srv in started:
        code = srv.stop()
        err = srv.stderr_text()
        assert code == 0, err
        assert "Sanitizer" not in err and "runtime error:" not in err, err


def check_probes(srv, container):
    """Every probe's port is the one predictd listens on, and its path answers 200."""
    probes = {k: container[k] for k in ("startupProbe", "livenessProbe", "readinessProbe")
              if k in container}
    assert {"livenessProbe", "readinessProbe"} <= set(probes)
    for name, probe in probes.items():
        assert probe_port(probe, container) == srv.container_port, name
        r = http_get(srv.port, probe["httpGet"]["path"])
        assert r.status == 200, (name, probe["httpGet"]["path"], r.status)
    return probes


def check_image_and_args(container):
    image = dockerfile()
    assert container["image"] == makefile_image(), "the image `make image` builds"
    assert image["entrypoint"] == ["/usr/local/bin/predictd"]
    args = container.get("args") or image["cmd"]
    assert args[0] == "serve", "ENTRYPOINT + args must run `predictd serve`"
    assert "command" not in container, "the image's ENTRYPOINT starts predictd"


# ------------------------------------------------------------------ every manifest

def test_every_manifest_parses_and_has_its_required_fields():
    files = load_all()
    assert len(files) >= 9, sorted(files)
    for path, documents in files.items():
        assert documents, f"{path} is empty"
        for d in documents:
            assert d.get("apiVersion") and d.get("kind"), path
            if d["kind"] != "Kustomization":
                assert d.get("metadata", {}).get("name"), path
                assert d.get("spec") or d.get("data"), path


def test_kustomization_lists_every_kubernetes_file():
    kust = yaml.safe_load(open(os.path.join(K8S, "kustomization.yaml")))
    files = {os.path.basename(p) for p in glob.glob(os.path.join(K8S, "*.yaml"))}
    assert set(kust["resources"]) == files - {"kustomization.yaml"}
    assert [i["name"] for i in kust["images"]] == [makefile_image().split(":")[0]]


def test_kubernetes_objects_reference_each_other():
    dep, svc = one("Deployment"), one("Service")
    hpa, pdb = one("HorizontalPodAutoscaler"), one("PodDisruptionBudget")
    labels = dep["spec"]["template"]["metadata"]["labels"]
    assert dep["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert svc["spec"]["selector"].items() <= labels.items()
    assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert pdb["spec"].get("minAvailable") or pdb["spec"].get("maxUnavailable")
    assert pdb["spec"].get("minAvailable", 0) < hpa["spec"]["minReplicas"] <= \
        hpa["spec"]["maxReplicas"]
    target = hpa["spec"]["scaleTargetRef"]
    assert (target["apiVersion"], target["kind"], target["name"]) == \
        (dep["apiVersion"], "Deployment", dep["metadata"]["name"])
    assert hpa["spec"]["metrics"], "the autoscaler needs a metric"
    c = dep["spec"]["template"]["spec"]["containers"][0]
    named = {p["name"]: p["containerPort"] for p in c["ports"]}
    for p in svc["spec"]["ports"]:
        assert p["targetPort"] in named or p["targetPort"] in named.values()


def test_deployment_runs_predictd_as_the_image_does(manifest_server, tmp_path):
    dep = one("Deployment")
    pod = dep["spec"]["template"]["spec"]
    c = pod["containers"][0]
    check_image_and_args(c)
    image = dockerfile()
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert str(pod["securityContext"]["runAsUser"]) == image["user"].split(":")[0]
    assert pod.get("enableServiceLinks") is False  # else PREDICTD_PORT=tcp://... is injected
    for kind in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(c["resources"][kind]), kind

    # the models volume is the ConfigMap, which holds exactly the demo models
    cm = one("ConfigMap", K8S)
    mounts = {m["name"]: m["mountPath"] for m in c["volumeMounts"]}
    vols = {v["name"]: v for v in pod["volumes"]}
    (vol_name, mount_path), = mounts.items()
    assert vols[vol_name]["configMap"]["name"] == cm["metadata"]["name"]
    for key, value in cm["data"].items():
        assert value == open(os.path.join(MODELS, key)).read(), \
            f"configmap-models.yaml's {key} differs from models/{key}: regenerate it (see its header)"
    assert set(cm["data"]) == {os.path.basename(p) for p in glob.glob(os.path.join(MODELS, "*.json"))}

    local = str(tmp_path / "models")
    configmap_mount(local, cm["data"])
    srv = manifest_server(c, {mount_path: local})
    assert mount_path in srv.manifest_args or \
        mount_path in image["env"].get("PREDICTD_MODELS", ""), "the mounted models are served"
    assert [p["containerPort"] for p in c["ports"]] == [srv.container_port]
    assert srv.container_port in image["expose"]
    probes = check_probes(srv, c)
    assert probes["readinessProbe"]["httpGet"]["path"] == "/v2/health/ready"
    assert probes["livenessProbe"]["httpGet"]["path"] == "/v2/health/live"
    startup = probes["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 120, \
        "the startup probe leaves big models time to load"

    # Prometheus scrape annotations point at /metrics on the serving port
    ann = dep["spec"]["template"]["metadata"]["annotations"]
    assert ann["prometheus.io/scrape"] == "true"
    assert int(ann["prometheus.io/port"]) == srv.container_port
    r = http_get(srv.port, ann["prometheus.io/path"])
    assert r.status == 200 and b"predictd_http_requests_total" in r.body

    # the drain fits in the grace period, after the preStop sleep
    pre = c["lifecycle"]["preStop"]
    sleep = int(pre["sleep"]["seconds"]) if "sleep" in pre else \
        int(pre["exec"]["command"][-1]) if pre["exec"]["command"][0] == "sleep" else None
    assert sleep and sleep >= 5, pre
    defaults, _ = help_defaults()
    drain = float(option(srv.manifest_args, srv.manifest_env, "--shutdown-timeout",
                         defaults["--shutdown-timeout"]))
    assert pod["terminationGracePeriodSeconds"] > sleep + drain

    # the models are served from the ConfigMap mount, with the workers the limit gives
    assert srv.manifest_env["PREDICTD_WORKERS"] == str(math.ceil(cpu_quantity(
        c["resources"]["limits"]["cpu"])))
    metrics = http_get(srv.port, "/metrics").body.decode()
    assert re.search(r"^predictd_pool_workers %s$" % srv.manifest_env["PREDICTD_WORKERS"],
                     metrics, re.M)
    r = request(srv.port, "POST", "/v1/models/iris:predict", body=json.dumps(IRIS_ROW).encode())
    assert r.status == 200 and json.loads(r.body) == {"predictions": ["setosa"]}
    assert all(json.loads(line) for line in srv.stderr_text().splitlines())  # JSON logs

    srv.signal(signal.SIGTERM)
    assert srv.wait(timeout=drain + 10) == 0


# ------------------------------------------------------------------ KServe

def write_xgboost(path):
    """A tiny XGBoost classifier on two features saved as JSON (what a user's
    booster.save_model writes)."""
    np = pytest.importorskip("numpy")
    xgb = pytest.importorskip("xgboost")
    X = np.random.RandomState(0).rand(64, 2)
    y = (X[:, 0] > 0.5).astype(int)
    xgb.train({"objective": "binary:logistic", "max_depth": 2, "nthread": 1},
              xgb.DMatrix(X, label=y), 3).save_model(path)


def test_kserve_runtime_and_inference_services(manifest_server, tmp_path):
    rt = one("ServingRuntime", KSERVE)
    spec = rt["spec"]
    formats = {f["name"] for f in spec["supportedModelFormats"]}
    assert {"sklearn", "xgboost"} <= formats
    assert {"v1", "v2"} <= set(spec["protocolVersions"])
    (c,) = spec["containers"]
    assert c["name"] == "kserve-container"
    check_image_and_args(c)
    assert "/mnt/models" in c["args"], "KServe's storage initializer writes /mnt/models"

    services = docs_of("InferenceService", KSERVE)
    assert {s["spec"]["predictor"]["model"]["modelFormat"]["name"] for s in services} == \
        {"sklearn", "xgboost"}
    mnt = tmp_path / "mnt-models"  # what the storage initializer would download, per service
    mnt.mkdir()
    for s in services:
        m = s["spec"]["predictor"]["model"]
        assert m["runtime"] == rt["metadata"]["name"]
        assert m["modelFormat"]["name"] in formats
        assert m["protocolVersion"] in spec["protocolVersions"]
        assert m["storageUri"]
        name = s["metadata"]["name"]
        if m["modelFormat"]["name"] == "xgboost":
            write_xgboost(str(mnt / f"{name}.json"))
        else:
            shutil.copy(os.path.join(MODELS, f"{name}.json"), mnt / f"{name}.json")

    srv = manifest_server(c, {"/mnt/models": str(mnt)})
    assert [p["containerPort"] for p in c["ports"]] == [srv.container_port]
    assert int(spec["annotations"]["prometheus.kserve.io/port"]) == srv.container_port
    assert http_get(srv.port, spec["annotations"]["prometheus.kserve.io/path"]).status == 200
    check_probes(srv, c)
    v2 = http_get(srv.port, "/v2").status == 200  # V2 REST lands from its own branch
    for s in services:  # each model is served under its InferenceService's name
        name = s["metadata"]["name"]
        row = IRIS_ROW if name == "iris" else {"instances": [[0.9, 0.1]]}
        r = request(srv.port, "POST", f"/v1/models/{name}:predict", body=json.dumps(row).encode())
        assert r.status == 200, (name, r.body)
        assert len(json.loads(r.body)["predictions"]) == 1
        if v2:
            assert http_get(srv.port, f"/v2/models/{name}/ready").status == 200


# ------------------------------------------------------------------ the docs

def test_deployment_docs_list_every_variable_with_its_default():
    defaults, variables = help_defaults()
    page = open(os.path.join(ROOT, "docs", "deployment.md")).read()
    rows = dict(re.findall(r"^\| `(PREDICTD_[A-Z_]+)` \| ([^|]*) \|", page, re.M))
    listed = {v for v in rows if v in variables}
    assert listed == set(variables), f"missing from docs/deployment.md: " \
        f"{sorted(set(variables) - listed)}; not options: {sorted(listed - set(variables))}"
    for var, flag in variables.items():
        cell = rows[var].strip()
        want = defaults[flag]
        assert f"`{flag}`" in cell, (var, cell)
        if want is not None:
            assert re.search(r"default %s\b" % re.escape(want), cell), \
                f"{var}: --help says default {want}: {cell}"
    assert "PREDICTD_MODELS" in rows and "PREDICTD_ADMIN_TOKEN" in rows
