"""test_docs_browser.py - GET /docs in a real browser: Debian's headless Chromium, driven
over the DevTools protocol (tests/e2e/cdp.py), opens Swagger UI as a user would, checks
that it lists every route of /openapi.json (and so every route the server serves), runs
"Try it out" on POST /predict with the example Swagger UI fills in, and sees the
prediction the server gives for that body. Screenshots of the page and of the answered
operation are kept in the test's tmp directory (its path is printed). Every wait is
bounded (PAGE_TIMEOUT, cdp's timeouts)."""
import json
import os

import pytest

import cdp
import openapi_util as ou
from conftest import PredictdServer, http_get, request

PAGE_TIMEOUT = 30.0   # seconds for Swagger UI to render, or to show an answer

# The Swagger UI block of one operation, found by its method and path as the page shows
# them (swagger-ui 5's classes: opblock, opblock-summary-method, opblock-summary-path).
FIND_OP = ("(() => Array.from(document.querySelectorAll('.opblock')).find(e => "
           "e.querySelector('.opblock-summary-method').textContent === %s && "
           "e.querySelector('.opblock-summary-path').getAttribute('data-path') === %s))()")
LISTED = ("Array.from(document.querySelectorAll('.opblock')).map(e => "
          "[e.querySelector('.opblock-summary-method').textContent, "
          "e.querySelector('.opblock-summary-path').getAttribute('data-path')])")


def in_op(method, path, selector):
    """JavaScript: the element `selector` inside the block of (method, path)."""
    return "(%s).querySelector(%s)" % (FIND_OP % (json.dumps(method), json.dumps(path)),
                                       json.dumps(selector))


@pytest.fixture(scope="module")
def srv():
    if not cdp.available():
        pytest.fail("Debian's chromium is not installed: run scripts/bootstrap")
    s = PredictdServer(("--default-model", "seed", os.path.join(ou.ROOT, "models"))).start()
    yield s
    assert s.stop() == 0
    assert "Sanitizer" not in s.stderr_text() and "runtime error:" not in s.stderr_text()


def test_docs_lists_every_route_and_runs_try_it_out(srv, tmp_path):
    doc = http_get(srv.port, "/openapi.json").json()
    documented = set(ou.operations(doc))
    with cdp.Browser(tmp_path) as b:
        b.navigate(f"http://127.0.0.1:{srv.port}/docs")
        b.wait_for("document.querySelectorAll('.opblock').length >= %d" % len(documented),
                   timeout=PAGE_TIMEOUT)
        listed = {tuple(x) for x in b.evaluate(LISTED)}
        assert listed == documented
        assert ou.expected_routes() <= listed
        assert b.evaluate("document.querySelector('.info .title').textContent").startswith(
            "predictd")
        page = b.screenshot(str(tmp_path / "docs-page.png"))

        # Try it out on POST /predict: open it, Try it out, Execute the example body.
        b.evaluate(in_op("POST", "/predict", ".opblock-summary-control") + ".click()")
        b.wait_for("!!" + in_op("POST", "/predict", ".try-out__btn"), timeout=PAGE_TIMEOUT)
        b.evaluate(in_op("POST", "/predict", ".try-out__btn") + ".click()")
        b.wait_for("!!" + in_op("POST", "/predict", "button.execute"), timeout=PAGE_TIMEOUT)
        body = b.evaluate(in_op("POST", "/predict", "textarea.body-param__text") + ".value")
        assert json.loads(body) == {"feature1": 0, "feature2": 0}  # the seed model's example
        b.evaluate(in_op("POST", "/predict", "button.execute") + ".click()")
        shown = b.wait_for(in_op("POST", "/predict", ".live-responses-table tbody "
                                 ".response-col_description pre") + "?.textContent",
                           timeout=PAGE_TIMEOUT)
        status = b.evaluate(in_op("POST", "/predict", ".live-responses-table tbody "
                                  ".response-col_status") + ".textContent")
        direct = request(srv.port, "POST", "/predict", body.encode(),
                         {"Content-Type": "application/json"})
        assert direct.status == 200 and "prediction" in direct.json()
        assert status.strip() == "200" and json.loads(shown) == direct.json()
        b.evaluate(in_op("POST", "/predict", ".live-responses-table") + ".scrollIntoView()")
        answered = b.screenshot(str(tmp_path / "docs-try-it-out.png"),
                                FIND_OP % (json.dumps("POST"), json.dumps("/predict")))
        errors = [t for kind, t in b.console if kind in ("error", "exception")]
        assert not errors, errors
    for png in (page, answered):
        with open(png, "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    print(f"screenshots: {page} {answered}")
