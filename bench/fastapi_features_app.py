"""fastapi_features_app.py - the article's FastAPI app (tests/e2e/fastapi_seed_app.py)
extended with online features from Redis, the two ways the benchmark compares
(bench/features.py):

  POST /predict_async       the way the article advises: the I/O is awaited on the event
                            loop with an async client (redis.asyncio), then the CPU-bound
                            model.predict goes to the thread pool (run_in_threadpool)
  POST /predict_threadpool  the pattern the article warns against: a synchronous Redis
                            call wrapped in run_in_threadpool (a thread tied up per
                            lookup), then model.predict in the thread pool as well
  GET  /health              answered on the loop

Body: {"user_id": <int or str>}; the entity's features are the hash user:<user_id>
(fields named as the model's features, PD_FEATURES, default feature1,feature2).
Answer: {"prediction": <label>}; an absent entity or field is a 422.

Run: /usr/bin/python3 bench/fastapi_features_app.py --port 8001 --model m.pkl
     --redis redis://127.0.0.1:6379     (uvicorn, uvloop, httptools, one worker)
"""
import argparse
import os
import sys
from typing import Union

from fastapi import FastAPI, HTTPException
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "tests", "e2e"))
from fastapi_seed_app import feature_names, load_model  # noqa: E402


class EntityRequest(BaseModel):
    user_id: Union[int, str]


def create_app(model, names, redis_url):
    import redis
    import redis.asyncio as aioredis
    app = FastAPI()
    aclient = aioredis.from_url(redis_url)
    sclient = redis.Redis.from_url(redis_url)

    def to_row(key, values):
        if any(v is None for v in values):
            raise HTTPException(status_code=422, detail=f"entity {key} lacks a feature")
        return [[float(v) for v in values]]

    def run_model_inference(processed_data):
        return model.predict(processed_data)

    def format_output(prediction):
        first = prediction[0]
        return first.item() if hasattr(first, "item") else first

    @app.post("/predict_async")
    async def predict_async(data: EntityRequest):
        key = f"user:{data.user_id}"
        values = await aclient.hmget(key, names)           # awaited on the loop
        prediction = await run_in_threadpool(run_model_inference, to_row(key, values))
        return {"prediction": format_output(prediction)}

    @app.post("/predict_threadpool")
    async def predict_threadpool(data: EntityRequest):
        key = f"user:{data.user_id}"
        values = await run_in_threadpool(sclient.hmget, key, names)  # I/O on a thread
        prediction = await run_in_threadpool(run_model_inference, to_row(key, values))
        return {"prediction": format_output(prediction)}

    @app.get("/health")
    async def health():
        return {"status": "ok"}

    return app


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8001)
    ap.add_argument("--model", required=True, help="pickle/joblib of a fitted estimator")
    ap.add_argument("--redis", required=True, help="redis://HOST:PORT[/DB]")
    args = ap.parse_args(argv)
    import uvicorn
    app = create_app(load_model(args.model), list(feature_names()), args.redis)
    uvicorn.run(app, host=args.host, port=args.port, loop="uvloop", http="httptools",
                workers=1, log_level="warning", access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
