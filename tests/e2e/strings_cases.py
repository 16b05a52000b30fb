"""strings_cases.py - the string-column pipelines of issue 10, fitted on a churn-like
pandas DataFrame (numeric and string columns, missing values in both), for
test_strings_parity.py and test_strings_vs_fastapi.py.

Each case: id, the pipeline factory, whether it is a classifier, and what the query rows
may hold (`nan_ok`: the model takes missing values, so the query keeps them; `unknown_ok`:
unseen categories are encoded, not refused). Data are generated with a fixed seed; every
loop is bounded by N_TRAIN / N_QUERY.
"""
import functools
import warnings

import numpy as np

N_TRAIN = 400
N_QUERY = 120
PLANS = ["basic", "plus", "pro", "max"]
CITIES = ["paris", "rome", "oslo", "kyiv", "lima", "tokyo", "cairo"]
DEVICES = ["ios", "android", "web"]
NUMERIC = ["tenure", "charges", "calls"]
STRINGS = ["plan", "city", "device"]
COLUMNS = ["tenure", "plan", "charges", "city", "calls", "device"]


def frame(n, seed, nan=0.08, unseen=0.0):
    """A DataFrame of n rows: tenure/charges/calls numbers, plan/city/device strings (city
    skewed, so that min_frequency groups its rare values), `nan` of each column missing
    (np.nan), and `unseen` of the string cells replaced by categories never trained on."""
    import pandas as pd
    rng = np.random.default_rng(seed)
    city_p = np.array([30, 25, 20, 10, 8, 5, 2], dtype=float)
    d = {"tenure": rng.integers(0, 72, n).astype(float),
         "plan": rng.choice(PLANS, n).astype(object),
         "charges": np.round(rng.normal(70, 25, n), 2),
         "city": rng.choice(CITIES, n, p=city_p / city_p.sum()).astype(object),
         "calls": rng.poisson(3, n).astype(float),
         "device": rng.choice(DEVICES, n).astype(object)}
    for c in COLUMNS:
        mask = rng.random(n) < nan
        if c in STRINGS:
            d[c][mask] = np.nan
            umask = (rng.random(n) < unseen) & ~mask
            d[c][umask] = np.array(["new-%s-%d" % (c, i) for i in range(int(umask.sum()))],
                                   dtype=object)
        else:
            d[c][mask] = np.nan
    df = pd.DataFrame(d)[COLUMNS]
    return df


def target(df, classifier):
    score = (df["tenure"].fillna(30) / 24 - df["charges"].fillna(70) / 40
             + (df["plan"] == "pro") * 1.5 - (df["device"] == "web") * 0.7
             + (df["city"] == "oslo") * 0.9 + df["calls"].fillna(3) * 0.2)
    if classifier:
        return np.digitize(score, [-0.5, 1.0]).astype(int)  # three classes
    return score.to_numpy()


def _num(imputer="median"):
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler
    return Pipeline([("imp", SimpleImputer(strategy=imputer, add_indicator=True)),
                     ("sc", StandardScaler())])


def _cat(**kw):
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder
    return Pipeline([("imp", SimpleImputer(strategy="most_frequent")),
                     ("oh", OneHotEncoder(**kw))])


def churn_lr():
    """The common production shape: numeric imputer+scaler, string imputer+one-hot."""
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    return Pipeline([("ct", ColumnTransformer([
        ("num", _num(), NUMERIC),
        ("cat", _cat(handle_unknown="ignore"), STRINGS)])),
        ("lr", LogisticRegression(max_iter=500))])


def churn_gb_infrequent():
    """One-hot with min_frequency / max_categories / infrequent_if_exist / drop, columns by
    index, remainder a transformer, gradient boosting."""
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import GradientBoostingClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder
    return Pipeline([("ct", ColumnTransformer([
        ("city", Pipeline([("imp", SimpleImputer(strategy="constant", fill_value="none")),
                           ("oh", OneHotEncoder(handle_unknown="infrequent_if_exist",
                                                min_frequency=30))]), [3]),
        ("plan", Pipeline([("imp", SimpleImputer(strategy="most_frequent")),
                           ("oh", OneHotEncoder(handle_unknown="infrequent_if_exist",
                                                max_categories=3, drop="first"))]), [1]),
        ("dev", "drop", [5])],
        remainder=SimpleImputer(strategy="mean"))),
        ("gb", GradientBoostingClassifier(n_estimators=30, max_depth=3, random_state=0))])


def ordinal_forest():
    """OrdinalEncoder (use_encoded_value, encoded_missing_value) on raw string columns with
    NaN categories, MissingIndicator, passthrough, a boolean mask, a random forest."""
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.impute import MissingIndicator, SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OrdinalEncoder
    mask = [c in STRINGS for c in COLUMNS]
    return Pipeline([("ct", ColumnTransformer([
        ("ord", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1,
                               encoded_missing_value=-2), mask),
        ("miss", MissingIndicator(features="all"), ["tenure", "charges"]),
        ("num", SimpleImputer(strategy="constant", fill_value=-1.0), NUMERIC)])),
        ("rf", RandomForestClassifier(n_estimators=15, max_depth=6, random_state=0))])


def strict_ridge():
    """handle_unknown='error' (unknown categories are a 422), drop='if_binary', a nested
    ColumnTransformer, string missing_values, a regressor."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler
    inner = ColumnTransformer([("sc", StandardScaler(), [0, 1]), ("pass", "passthrough", [2])])
    return Pipeline([("ct", ColumnTransformer([
        ("num", Pipeline([("imp", SimpleImputer(strategy="mean")), ("inner", inner)]),
         NUMERIC),
        ("plan", OneHotEncoder(handle_unknown="error"), ["plan"]),
        ("dev", OneHotEncoder(handle_unknown="error", drop="if_binary"), ["device"]),
        ("city", Pipeline([("imp", SimpleImputer(missing_values="cairo",
                                                 strategy="most_frequent")),
                           ("oh", OneHotEncoder(handle_unknown="ignore"))]), ["city"])])),
        ("ridge", Ridge(alpha=0.5))])


def imputer_only():
    """SimpleImputer alone (mean, with add_indicator) in front of a regressor, numbers only."""
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LinearRegression
    from sklearn.pipeline import Pipeline
    from sklearn.compose import ColumnTransformer
    return Pipeline([("ct", ColumnTransformer([("n", SimpleImputer(add_indicator=True),
                                                NUMERIC)])),
                     ("lr", LinearRegression())])


def onehot_hgb():
    """OneHotEncoder straight on raw string columns with NaN (a NaN category), ignore,
    then HistGradientBoosting (which takes NaN in the passed-through numbers)."""
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder
    return Pipeline([("ct", ColumnTransformer([
        ("oh", OneHotEncoder(handle_unknown="ignore", sparse_output=False), STRINGS)],
        remainder="passthrough")),
        ("hgb", HistGradientBoostingRegressor(max_iter=40, random_state=0))])


def numeric_mix_lr():
    """The numeric transformers inside ColumnTransformer entries beside string columns:
    PowerTransformer, QuantileTransformer (normal), PolynomialFeatures, KBinsDiscretizer
    (one-hot) each after an imputer, then a Normalizer over the joined columns."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import (KBinsDiscretizer, Normalizer, PolynomialFeatures,
                                       PowerTransformer, QuantileTransformer)

    def imp(t):
        return Pipeline([("imp", SimpleImputer(strategy="median")), ("t", t)])
    return Pipeline([("ct", ColumnTransformer([
        ("pow", imp(PowerTransformer()), ["charges"]),
        ("qt", imp(QuantileTransformer(n_quantiles=50, output_distribution="normal")),
         ["tenure"]),
        ("poly", imp(PolynomialFeatures(degree=2)), ["calls", "tenure"]),
        ("bins", imp(KBinsDiscretizer(n_bins=4, encode="onehot-dense")), ["charges"]),
        ("cat", _cat(handle_unknown="ignore"), STRINGS)])),
        ("norm", Normalizer()),
        ("lr", LogisticRegression(max_iter=1000))])


class Case:
    def __init__(self, id, make, classifier, nan_ok=True, unknown_ok=True):
        self.id, self.make, self.classifier = id, make, classifier
        self.nan_ok, self.unknown_ok = nan_ok, unknown_ok


CASES = [
    Case("churn_lr", churn_lr, True),
    Case("churn_gb_infrequent", churn_gb_infrequent, True),
    Case("ordinal_forest", ordinal_forest, True),
    # OneHotEncoder(handle_unknown='error') with no NaN category: no missing, no unseen
    Case("strict_ridge", strict_ridge, False, nan_ok=False, unknown_ok=False),
    Case("imputer_only", imputer_only, False),
    Case("onehot_hgb", onehot_hgb, False),
    Case("numeric_mix_lr", numeric_mix_lr, True),
]
CASES_BY_ID = {c.id: c for c in CASES}


@functools.lru_cache(maxsize=None)
def fitted(case_id):
    case = CASES_BY_ID[case_id]
    nan = 0.0 if not case.nan_ok else 0.08
    df = frame(N_TRAIN, 1, nan=nan)
    if not case.nan_ok:
        df = df.dropna(subset=STRINGS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return case.make().fit(df, target(df, case.classifier))


def query(case_id):
    """The query DataFrame of a case: missing values and unseen categories where the
    model takes them."""
    case = CASES_BY_ID[case_id]
    df = frame(N_QUERY, 2, nan=0.1 if case.nan_ok else 0.0,
               unseen=0.1 if case.unknown_ok else 0.0)
    if not case.nan_ok:
        df = df.dropna(subset=STRINGS)
    return df


def json_rows(df):
    """The rows as JSON-ready dicts: NaN -> None (null)."""
    out = []
    for rec in df.to_dict(orient="records"):
        out.append({k: (None if isinstance(v, float) and v != v else v)
                    for k, v in rec.items()})
    return out
