"""The numeric transformers' own output, column by column, against scikit-learn's
transform: each fitted transformer is exported with a final `linear` step that selects one
output column (coefficient 1 there, 0 elsewhere, intercept 0: the sum is that column bit
for bit), and `predictd predict` must return the library's column exactly. The two
documented exceptions are compared by ulp: Normalizer("l2") (numpy's einsum sums squares
in its own SIMD order) and QuantileTransformer(output_distribution="normal") (the normal
ppf, within MAX_PPF_ULP of scipy's ndtri); PowerTransformer by the parity rule (numpy's
np.power, np.log1p and scipy's boxcox are not libm's: on this AVX-512 machine numpy's
vectorised ones differ from glibc by 1-2 ulp on a quarter of inputs). Predictions of whole
pipelines are in parity_cases.py (test_parity.py)."""

import json
import os

import numpy as np
import pytest

import parity_util as pu

pytestmark = pytest.mark.skipif("PREDICTD_BIN" not in os.environ,
                                reason="PREDICTD_BIN is not set (make test sets it)")

MAX_COLUMNS = 6        # output columns checked per transformer (spread over its width)
MAX_L2_ULP = 4         # Normalizer l2: measured max 1 ulp on these datasets
MAX_PPF_ULP = 8        # quantile normal: measured max 5 ulp of ndtri over 240k p values


def _cases():
    from sklearn import preprocessing as pp
    kb = pp.KBinsDiscretizer
    return [
        ("poly2", "diabetes", lambda: pp.PolynomialFeatures(2), 0),
        ("poly3_interaction", "wine", lambda: pp.PolynomialFeatures(
            3, interaction_only=True, include_bias=False), 0),
        ("poly4_nobias", "iris", lambda: pp.PolynomialFeatures(4, include_bias=False), 0),
        ("poly_degrees_2_to_3", "iris", lambda: pp.PolynomialFeatures((2, 3)), 0),
        ("kbins_ordinal_uniform", "diabetes", lambda: kb(7, encode="ordinal",
                                                         strategy="uniform"), 0),
        ("kbins_onehot_quantile", "breast_cancer", lambda: kb(5, encode="onehot"), 0),
        ("kbins_onehot_dense_kmeans", "wine", lambda: kb(4, encode="onehot-dense",
                                                         strategy="kmeans"), 0),
        ("normalizer_l1", "digits", lambda: pp.Normalizer("l1"), 0),
        ("normalizer_max", "wine", lambda: pp.Normalizer("max"), 0),
        ("normalizer_l2", "breast_cancer", lambda: pp.Normalizer("l2"), MAX_L2_ULP),
        ("quantile_uniform", "diabetes", lambda: pp.QuantileTransformer(n_quantiles=80), 0),
        ("quantile_uniform_ties", "digits", lambda: pp.QuantileTransformer(n_quantiles=50), 0),
        ("quantile_normal", "breast_cancer", lambda: pp.QuantileTransformer(
            n_quantiles=200, output_distribution="normal"), MAX_PPF_ULP),
        ("power_yeo_johnson", "diabetes", lambda: pp.PowerTransformer(standardize=False),
         "rel"),
        ("power_box_cox", "iris", lambda: pp.PowerTransformer("box-cox",
                                                             standardize=False), "rel"),
        ("power_standardized", "wine", lambda: pp.PowerTransformer(), "rel"),
    ]


def _rows(X):
    """The dataset plus rows outside the fitted range (below, above, on the edges)."""
    lo, hi = X.min(axis=0), X.max(axis=0)
    return np.vstack([X, lo - 1.0, hi + 1.0, lo, hi, (lo + hi) / 2])


@pytest.mark.parametrize("name,data,make,ulps", _cases(), ids=lambda v: v if isinstance(
    v, str) else "")
def test_transform_columns(name, data, make, ulps, tmp_path):
    from predictd.export import to_document
    from sklearn.linear_model import LinearRegression
    from sklearn.pipeline import make_pipeline
    X, y, names = pu.dataset(data)
    if name == "power_box_cox":
        X = X + 0.5  # strictly positive, as Box-Cox requires
    t = make().fit(X)
    Q = _rows(X) if name != "power_box_cox" else np.vstack([X, X.max(axis=0) + 1.0])
    want = t.transform(Q)
    want = want.toarray() if hasattr(want, "toarray") else np.asarray(want)
    pipe = make_pipeline(t, LinearRegression().fit(t.transform(X), y))
    doc = to_document(pipe, feature_names=names)
    width = want.shape[1]
    for k in sorted(set(np.linspace(0, width - 1, min(MAX_COLUMNS, width)).astype(int))):
        coef = [0.0] * width
        coef[k] = 1.0
        doc["steps"][-1] = {"type": "linear", "link": "identity", "coef": [coef],
                            "intercept": [0.0]}
        path = str(tmp_path / ("%s_%d.json" % (name, k)))
        with open(path, "w") as f:
            json.dump(doc, f)
        got, _ = pu.binary_outputs(doc, path, Q, tmp_path)
        what = "%s column %d" % (name, k)
        if ulps == "rel":  # libm's pow/log/expm1 vs numpy's and scipy's own: parity rule
            rel = np.abs(got - want[:, k]) / np.maximum(np.abs(want[:, k]), pu.FLOOR)
            print("%s: max relative difference %.3g" % (what, rel.max()))
            pu.assert_close(got, want[:, k], what)
        elif ulps == 0:
            pu.assert_close(got, want[:, k], what, exact=True)
        else:
            diff = np.abs(got - want[:, k]) / np.spacing(np.abs(want[:, k]))
            assert diff.max() <= ulps, "%s: %g ulp apart (at most %d allowed)" % (
                what, diff.max(), ulps)
