"""fastapi_seed_app.py - the article's FastAPI app (seed/), made real.

It serves a fitted scikit-learn estimator the way the article prescribes:
  POST /predict_blocking      model.predict runs on the event loop (the anti-pattern)
  POST /predict_non_blocking  model.predict runs via `await run_in_threadpool(...)`
  POST /predict_list          a batch, `data: List[InputData]`: one model.predict over all
                              rows via `await run_in_threadpool(...)` (the benchmark's
                              List[InputData] baseline and the oracle for predictd's lists)
  GET  /health                answered on the loop
Body: the Pydantic model InputData (feature1: float, feature2: float by default; with
PD_FEATURES="a,b,c" the fields are built from those names, in that order). With
optional=True (PD_OPTIONAL=1) every field is `Optional[float] = None`: the app of a model
that takes missing values (XGBoost, HistGradientBoosting), predictd's missing_ok mode.
Answer: {"prediction": <label>}; /predict_list: {"predictions": [<label>, ...]}.

The model comes from PD_SKLEARN_MODEL (a pickle or joblib file of a fitted estimator).
`create_app(model, names, optional=False)` is also importable, so that tests and the validation-case
generator can run the same app in-process with their own estimator.

Run: /usr/bin/python3 tests/e2e/fastapi_seed_app.py --port 8001
     (uvicorn, loop uvloop, http httptools, one worker: the benchmark's configuration)
"""
import argparse
import os
import pickle
import sys
from typing import List, Optional

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from pydantic import create_model

DEFAULT_FEATURES = ("feature1", "feature2")


def load_model(path):
    """Loads a pickled/joblib estimator from path (joblib when it is installed)."""
    try:
        import joblib
        return joblib.load(path)
    except ImportError:
        with open(path, "rb") as f:
            return pickle.load(f)


def feature_names():
    """The feature names from PD_FEATURES (comma-separated) or the article's two."""
    env = os.environ.get("PD_FEATURES", "").strip()
    if not env:
        return DEFAULT_FEATURES
    return tuple(n.strip() for n in env.split(",") if n.strip())


def optional_from_env():
    """PD_OPTIONAL=1: fields are Optional[float] = None (a model that takes missing values)."""
    return os.environ.get("PD_OPTIONAL", "").strip() not in ("", "0")


def create_app(model, names=DEFAULT_FEATURES, optional=False):
    """The article's app around `model` (anything with .predict(rows)); optional=True makes
    every field Optional[float] = None (null or omitted -> None, handed to the model)."""
    # InputData exactly as the article declares it when names are the defaults:
    #   class InputData(BaseModel): feature1: float; feature2: float
    field = (Optional[float], None) if optional else (float, ...)
    InputData = create_model("InputData", **{n: field for n in names})
    app = FastAPI()

    def preprocess_input(data):
        return [[getattr(data, n) for n in names]]

    def run_model_inference(processed_data):
        return model.predict(processed_data)

    def format_output(prediction):
        first = prediction[0]
        # numpy scalars are not JSON-encodable by FastAPI: hand back the Python value.
        return first.item() if hasattr(first, "item") else first

    def preprocess_batch(data):
        return [[getattr(row, n) for n in names] for row in data]

    def format_batch(prediction):
        return prediction.tolist() if hasattr(prediction, "tolist") else list(prediction)

    @app.post("/predict_blocking")
    async def predict_blocking(data: InputData):
        processed_data = preprocess_input(data)
        prediction = run_model_inference(processed_data)  # blocks the event loop
        return {"prediction": format_output(prediction)}

    @app.post("/predict_non_blocking")
    async def predict_non_blocking(data: InputData):
        processed_data = preprocess_input(data)
        prediction = await run_in_threadpool(run_model_inference, processed_data)
        return {"prediction": format_output(prediction)}

    @app.post("/predict_list")
    async def predict_list(data: List[InputData]):
        if not data:  # scikit-learn refuses a batch of 0 rows
            return {"predictions": []}
        processed_data = preprocess_batch(data)
        prediction = await run_in_threadpool(run_model_inference, processed_data)
        return {"predictions": format_batch(prediction)}

    @app.get("/health")
    async def health():
        return {"status": "ok"}

    return app


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8001)
    ap.add_argument("--model", default=os.environ.get("PD_SKLEARN_MODEL"),
                    help="pickle/joblib of a fitted estimator (default: $PD_SKLEARN_MODEL)")
    args = ap.parse_args(argv)
    if not args.model:
        print("fastapi_seed_app: set PD_SKLEARN_MODEL or pass --model", file=sys.stderr)
        return 2
    import uvicorn
    app = create_app(load_model(args.model), feature_names(), optional_from_env())
    uvicorn.run(app, host=args.host, port=args.port, loop="uvloop", http="httptools",
                workers=1, log_level="warning", access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
