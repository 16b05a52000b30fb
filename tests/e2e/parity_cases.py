"""The table of parity cases: each supported estimator (or Pipeline, meta-estimator) on a
bundled dataset, with what its comparison needs (bit-exact or not, named outputs, a
holdout split). Used through parity_util (CASES, CASES_BY_ID) by test_export.py,
test_parity.py and test_parity_outputs.py. Estimators are built lazily (make), fitted once
per process by parity_util.fit."""

import numpy as np


class Case:
    """One estimator on one dataset. exact: library output must be matched bit for bit.
    named: export with the dataset's feature names (else the default x0..xN-1).
    outputs: named outputs the exported model must offer (test_parity_outputs.py).
    holdout: fit on the even rows, predict the odd ones (query_rows): for estimators whose
    library computes a distance of a training row to itself only up to rounding (brute
    force k-neighbours by the GEMM trick), where serving new rows is what matters."""

    def __init__(self, id, data, make, exact=False, named=True, outputs=(), holdout=False):
        self.id, self.data, self.make, self.exact, self.named = id, data, make, exact, named
        self.outputs, self.holdout = outputs, holdout

    def __repr__(self):
        return self.id


def _dense_cases():
    """Linear models and MLPs, with the scalers in pipelines."""
    from sklearn import linear_model as lm
    from sklearn import preprocessing as pp
    from sklearn.pipeline import make_pipeline as pipe
    return [
        Case("linear_regression", "diabetes", lambda: lm.LinearRegression()),
        Case("ridge", "diabetes", lambda: lm.Ridge(alpha=0.5), named=False),
        Case("lasso", "diabetes", lambda: lm.Lasso(alpha=0.1)),
        Case("elastic_net", "diabetes", lambda: lm.ElasticNet(alpha=0.01, l1_ratio=0.3)),
        Case("minmax_linear", "diabetes",
             lambda: pipe(pp.MinMaxScaler(), lm.LinearRegression())),
        Case("robust_ridge", "diabetes", lambda: pipe(pp.RobustScaler(), lm.Ridge())),
        Case("robust_nocenter_ridge", "diabetes",
             lambda: pipe(pp.RobustScaler(with_centering=False), lm.Ridge())),
        Case("logistic_binary", "breast_cancer",
             lambda: pipe(pp.StandardScaler(), lm.LogisticRegression(max_iter=500))),
        Case("logistic_binary_multinomial", "breast_cancer",
             lambda: pipe(pp.StandardScaler(),
                          lm.LogisticRegression(multi_class="multinomial", max_iter=500))),
        Case("logistic_multinomial", "iris_str", lambda: lm.LogisticRegression(max_iter=500)),
        Case("logistic_ovr", "wine",
             lambda: pipe(pp.MaxAbsScaler(), lm.LogisticRegression(multi_class="ovr"))),
        Case("logistic_liblinear", "iris", lambda: lm.LogisticRegression(solver="liblinear")),
    ] + _more_dense_cases()


def _tree_cases():
    """Single trees, forests, gradient boosting, histogram gradient boosting."""
    from sklearn import ensemble as en, tree
    rs = 0
    return [
        Case("tree_classifier", "iris_str",
             lambda: tree.DecisionTreeClassifier(random_state=rs), exact=True),
        Case("tree_regressor", "diabetes",
             lambda: tree.DecisionTreeRegressor(max_depth=8, random_state=rs), exact=True),
        Case("forest_classifier", "digits",
             lambda: en.RandomForestClassifier(n_estimators=15, max_depth=10,
                                               random_state=rs), exact=True),
        Case("forest_regressor", "diabetes",
             lambda: en.RandomForestRegressor(n_estimators=15, max_depth=8,
                                              random_state=rs), exact=True),
        Case("extra_trees_classifier", "wine",
             lambda: en.ExtraTreesClassifier(n_estimators=15, random_state=rs), exact=True),
        Case("extra_trees_regressor", "diabetes",
             lambda: en.ExtraTreesRegressor(n_estimators=10, max_depth=8, random_state=rs),
             exact=True),
        Case("gb_binary", "breast_cancer",
             lambda: en.GradientBoostingClassifier(n_estimators=30, random_state=rs)),
        Case("gb_exponential", "breast_cancer",
             lambda: en.GradientBoostingClassifier(loss="exponential", n_estimators=20,
                                                   learning_rate=0.3, random_state=rs)),
        Case("gb_multiclass", "iris_str",
             lambda: en.GradientBoostingClassifier(n_estimators=20, max_depth=2,
                                                   random_state=rs)),
        Case("gb_regressor", "diabetes",
             lambda: en.GradientBoostingRegressor(n_estimators=40, learning_rate=0.07,
                                                  subsample=0.8, random_state=rs)),
        Case("gb_huber_zero_init", "diabetes",
             lambda: en.GradientBoostingRegressor(loss="huber", init="zero",
                                                  n_estimators=20, random_state=rs)),
        Case("hgb_binary_nan", "breast_cancer_nan",
             lambda: en.HistGradientBoostingClassifier(max_iter=30, random_state=rs)),
        Case("hgb_multiclass_nan", "wine_nan",
             lambda: en.HistGradientBoostingClassifier(max_iter=20, random_state=rs)),
        Case("hgb_nan_split", "breast_cancer_nansplit",
             lambda: en.HistGradientBoostingClassifier(max_iter=10, random_state=rs)),
        Case("hgb_regressor_nan", "diabetes_nan",
             lambda: en.HistGradientBoostingRegressor(max_iter=30, random_state=rs)),
    ]


def _more_dense_cases():
    """The MLP cases."""
    from sklearn import neural_network as nn
    from sklearn import preprocessing as pp
    from sklearn.pipeline import make_pipeline as pipe
    rs = 0
    return [
        Case("mlp_binary", "breast_cancer",
             lambda: pipe(pp.StandardScaler(), nn.MLPClassifier(
                 hidden_layer_sizes=(16, 8), max_iter=200, random_state=rs))),
        Case("mlp_multiclass_tanh", "digits",
             lambda: pipe(pp.MinMaxScaler(), nn.MLPClassifier(
                 hidden_layer_sizes=(32,), activation="tanh", max_iter=60, random_state=rs))),
        Case("mlp_logistic_act", "iris_str",
             lambda: pipe(pp.StandardScaler(), nn.MLPClassifier(
                 hidden_layer_sizes=(8,), activation="logistic", max_iter=300,
                 random_state=rs))),
        Case("mlp_regressor", "diabetes",
             lambda: pipe(pp.StandardScaler(), nn.MLPRegressor(
                 hidden_layer_sizes=(16,), activation="identity", max_iter=200,
                 random_state=rs))),
        Case("mlp_regressor_relu", "diabetes",
             lambda: pipe(pp.StandardScaler(with_mean=False), nn.MLPRegressor(
                 hidden_layer_sizes=(16,), max_iter=200, random_state=rs))),
    ]


def _linear_family_cases():
    """The linear family of _linear.py: regressors, GLMs, classifiers with and without
    probabilities, naive Bayes."""
    from sklearn import discriminant_analysis as da, naive_bayes as nb, svm
    from sklearn import linear_model as lm, preprocessing as pp
    from sklearn.pipeline import make_pipeline as pipe
    rs, sc = 0, pp.StandardScaler
    reg = [
        ("linear_svr", lambda: pipe(sc(), svm.LinearSVR(random_state=rs, max_iter=5000))),
        ("sgd_regressor", lambda: pipe(sc(), lm.SGDRegressor(random_state=rs))),
        ("sgd_regressor_huber",
         lambda: pipe(sc(), lm.SGDRegressor(loss="huber", epsilon=20.0, random_state=rs))),
        ("linear_svr_sq_eps", lambda: pipe(sc(), svm.LinearSVR(
            loss="squared_epsilon_insensitive", dual=False, random_state=rs))),
        ("pa_regressor", lambda: pipe(sc(), lm.PassiveAggressiveRegressor(random_state=rs))),
        ("huber", lambda: pipe(sc(), lm.HuberRegressor(max_iter=500))),
        ("quantile", lambda: lm.QuantileRegressor(quantile=0.7, alpha=0.01,
                                                  solver="highs")),
        ("bayesian_ridge", lambda: lm.BayesianRidge()),
        ("ard", lambda: lm.ARDRegression()),
        ("lars", lambda: lm.Lars(n_nonzero_coefs=6)),
        ("lasso_lars", lambda: lm.LassoLars(alpha=0.05)),
        ("omp", lambda: lm.OrthogonalMatchingPursuit(n_nonzero_coefs=5)),
        ("tweedie_identity", lambda: pipe(sc(), lm.TweedieRegressor(power=0, alpha=0.1))),
        ("tweedie_log", lambda: pipe(sc(), lm.TweedieRegressor(power=1.5, alpha=0.1))),
        ("poisson", lambda: pipe(sc(), lm.PoissonRegressor(alpha=0.1))),
        ("gamma", lambda: pipe(sc(), lm.GammaRegressor(alpha=0.1))),
    ]
    cls = [
        ("linear_svc_binary", "breast_cancer",
         lambda: pipe(sc(), svm.LinearSVC(random_state=rs, max_iter=5000))),
        ("linear_svc_multi", "wine",
         lambda: pipe(sc(), svm.LinearSVC(random_state=rs, max_iter=5000))),
        ("linear_svc_crammer", "iris_str",
         lambda: pipe(sc(), svm.LinearSVC(multi_class="crammer_singer", random_state=rs,
                                          max_iter=5000))),
        ("perceptron", "digits", lambda: lm.Perceptron(random_state=rs)),
        ("pa_classifier", "breast_cancer",
         lambda: pipe(sc(), lm.PassiveAggressiveClassifier(random_state=rs))),
        ("ridge_classifier", "iris_str", lambda: lm.RidgeClassifier()),
        ("ridge_classifier_binary", "breast_cancer", lambda: lm.RidgeClassifier(alpha=3)),
        ("sgd_hinge", "wine", lambda: pipe(sc(), lm.SGDClassifier(random_state=rs))),
        ("sgd_log_binary", "breast_cancer",
         lambda: pipe(sc(), lm.SGDClassifier(loss="log_loss", random_state=rs))),
        ("sgd_log_multi", "iris_str",
         lambda: pipe(sc(), lm.SGDClassifier(loss="log_loss", random_state=rs))),
        ("sgd_mhuber_binary", "breast_cancer",
         lambda: pipe(sc(), lm.SGDClassifier(loss="modified_huber", random_state=rs))),
        ("sgd_mhuber_multi", "digits",
         lambda: pipe(sc(), lm.SGDClassifier(loss="modified_huber", random_state=rs))),
        ("sgd_squared_hinge", "iris",
         lambda: pipe(sc(), lm.SGDClassifier(loss="squared_hinge", random_state=rs))),
        ("sgd_perceptron_loss", "wine",
         lambda: pipe(sc(), lm.SGDClassifier(loss="perceptron", random_state=rs))),
        ("sgd_huber_loss", "breast_cancer",
         lambda: pipe(sc(), lm.SGDClassifier(loss="huber", random_state=rs))),
        ("sgd_squared_error_loss", "iris_str",
         lambda: pipe(sc(), lm.SGDClassifier(loss="squared_error", alpha=0.01,
                                             random_state=rs))),
        ("sgd_eps_insensitive_loss", "digits",
         lambda: pipe(sc(), lm.SGDClassifier(loss="epsilon_insensitive", random_state=rs))),
        ("pa_classifier_multi", "wine",
         lambda: pipe(sc(), lm.PassiveAggressiveClassifier(random_state=rs))),
        ("lda_binary", "breast_cancer", lambda: da.LinearDiscriminantAnalysis()),
        ("lda_multi", "wine", lambda: da.LinearDiscriminantAnalysis(solver="lsqr",
                                                                    shrinkage="auto")),
        ("lda_eigen", "iris_str", lambda: da.LinearDiscriminantAnalysis(solver="eigen")),
        ("multinomial_nb", "digits", lambda: nb.MultinomialNB(alpha=0.5)),
        ("complement_nb", "digits", lambda: nb.ComplementNB()),
        ("bernoulli_nb", "digits", lambda: nb.BernoulliNB(binarize=4.0)),
        ("bernoulli_nb_binary", "breast_cancer",
         lambda: pipe(sc(), nb.BernoulliNB())),
    ]
    nb_out = ("predict_joint_log_proba",)
    return ([Case(i, "diabetes", f) for i, f in reg] +
            [Case(i, d, f, outputs=nb_out if i.endswith(("_nb", "_nb_binary"))
                  else ("decision_function",)) for i, d, f in cls])


def _svm_cases():
    """libsvm estimators: every kernel, binary/multiclass/string labels, ovr/ovo, break_ties,
    probabilities, nu variants, regression, one-class."""
    from sklearn import preprocessing as pp, svm
    from sklearn.pipeline import make_pipeline as pipe
    rs, sc, df = 0, pp.StandardScaler, ("decision_function",)
    return [
        Case("svc_rbf_binary_proba", "breast_cancer",
             lambda: pipe(sc(), svm.SVC(probability=True, random_state=rs)), outputs=df),
        Case("svc_rbf_multi_proba", "iris_str",
             lambda: svm.SVC(probability=True, random_state=rs), outputs=df),
        Case("svc_rbf_digits_proba", "digits",
             lambda: pipe(pp.MinMaxScaler(), svm.SVC(gamma=0.05, probability=True,
                                                     random_state=rs)), outputs=df),
        Case("svc_linear_ovo", "wine",
             lambda: pipe(sc(), svm.SVC(kernel="linear", decision_function_shape="ovo")),
             outputs=df),
        Case("svc_poly", "wine",
             lambda: pipe(sc(), svm.SVC(kernel="poly", degree=3, coef0=1.0, C=0.5)),
             outputs=df),
        Case("svc_sigmoid", "breast_cancer",
             lambda: pipe(sc(), svm.SVC(kernel="sigmoid", gamma=0.01, coef0=0.5)),
             outputs=df),
        Case("svc_break_ties", "wine",
             lambda: pipe(sc(), svm.SVC(C=0.3, break_ties=True)), outputs=df),
        Case("nusvc_multi_proba", "iris",
             lambda: svm.NuSVC(nu=0.3, probability=True, random_state=rs), outputs=df),
        Case("nusvc_binary", "breast_cancer",
             lambda: pipe(sc(), svm.NuSVC(nu=0.2, kernel="poly", degree=2)), outputs=df),
        Case("svr_rbf", "diabetes", lambda: pipe(sc(), svm.SVR(C=50.0, epsilon=5.0))),
        Case("svr_linear", "diabetes", lambda: pipe(sc(), svm.SVR(kernel="linear", C=10.0))),
        Case("nusvr_poly", "diabetes",
             lambda: pipe(sc(), svm.NuSVR(kernel="poly", degree=2, C=20.0, nu=0.4))),
        Case("one_class_svm", "breast_cancer",
             lambda: pipe(sc(), svm.OneClassSVM(nu=0.1, gamma=0.02)),
             outputs=("decision_function", "score_samples")),
    ]


def _distance_cases():
    """Neighbours, centroids, clustering, projections, isolation forests."""
    from sklearn import cluster, decomposition as dec, ensemble as en, linear_model as lm
    from sklearn import neighbors as nb, preprocessing as pp, svm
    from sklearn.pipeline import make_pipeline as pipe
    rs, sc = 0, pp.StandardScaler
    km_out, if_out = ("transform",), ("score_samples", "decision_function")
    return [
        Case("knn_uniform", "wine", lambda: pipe(sc(), nb.KNeighborsClassifier(5))),
        Case("knn_distance", "breast_cancer",
             lambda: pipe(sc(), nb.KNeighborsClassifier(7, weights="distance")),
             holdout=True),
        Case("knn_manhattan", "wine",
             lambda: pipe(sc(), nb.KNeighborsClassifier(6, metric="manhattan",
                                                        weights="distance"))),
        Case("knn_chebyshev_str", "iris_str",
             lambda: nb.KNeighborsClassifier(3, metric="chebyshev", algorithm="brute"),
             holdout=True),
        Case("knn_minkowski_p3", "breast_cancer",
             lambda: pipe(sc(), nb.KNeighborsClassifier(4, p=3, algorithm="brute"))),
        Case("knn_regressor", "diabetes", lambda: nb.KNeighborsRegressor(5)),
        Case("knn_regressor_distance", "diabetes",
             lambda: nb.KNeighborsRegressor(8, weights="distance", algorithm="brute"),
             holdout=True),
        Case("radius_classifier", "wine",
             lambda: pipe(sc(), nb.RadiusNeighborsClassifier(3.0, weights="distance",
                                                             outlier_label="most_frequent")),
             holdout=True),
        Case("radius_classifier_str", "iris_str",
             lambda: nb.RadiusNeighborsClassifier(0.6, outlier_label="virginica"),
             holdout=True),
        Case("radius_regressor", "diabetes",
             lambda: pipe(sc(), nb.RadiusNeighborsRegressor(4.0, p=1))),
        Case("nearest_centroid", "iris_str", lambda: nb.NearestCentroid()),
        Case("nearest_centroid_manhattan", "wine",
             lambda: pipe(sc(), nb.NearestCentroid(metric="manhattan"))),
        Case("kmeans", "iris", lambda: cluster.KMeans(3, n_init=10, random_state=rs),
             outputs=km_out),
        Case("minibatch_kmeans", "wine",
             lambda: pipe(sc(), cluster.MiniBatchKMeans(4, n_init=3, random_state=rs)),
             outputs=km_out),
        Case("pca_logistic", "digits",
             lambda: pipe(dec.PCA(20, random_state=rs), lm.LogisticRegression(max_iter=2000))),
        Case("pca_whiten_svc", "wine",
             lambda: pipe(sc(), dec.PCA(5, whiten=True), svm.SVC(probability=True,
                                                                  random_state=rs))),
        Case("svd_ridge", "diabetes",
             lambda: pipe(dec.TruncatedSVD(5, random_state=rs), lm.Ridge())),
        Case("isolation_forest", "breast_cancer",
             lambda: en.IsolationForest(n_estimators=50, random_state=rs), outputs=if_out),
        Case("isolation_forest_subspace", "wine",
             lambda: en.IsolationForest(n_estimators=30, max_features=0.5,
                                        contamination=0.1, random_state=rs),
             outputs=if_out),
    ]


def _meta_cases():
    """Meta-estimators over supported estimators (Pipelines inside included)."""
    from sklearn import calibration as cal, compose, discriminant_analysis as da
    from sklearn import ensemble as en, linear_model as lm, naive_bayes as nb_
    from sklearn import neighbors as nb, preprocessing as pp, svm, tree
    from sklearn.pipeline import make_pipeline as pipe
    rs, sc = 0, pp.StandardScaler
    df = ("decision_function",)
    return [
        Case("voting_soft", "iris_str", lambda: en.VotingClassifier(
            [("lr", pipe(sc(), lm.LogisticRegression())),
             ("svc", svm.SVC(probability=True, random_state=rs)),
             ("rf", en.RandomForestClassifier(10, random_state=rs))],
            voting="soft", weights=[2, 1, 1])),
        Case("voting_hard", "wine", lambda: en.VotingClassifier(
            [("svc", pipe(sc(), svm.LinearSVC(random_state=rs))),
             ("knn", pipe(sc(), nb.KNeighborsClassifier())),
             ("tree", tree.DecisionTreeClassifier(max_depth=3, random_state=rs))],
            voting="hard")),
        Case("voting_regressor", "diabetes", lambda: en.VotingRegressor(
            [("ridge", lm.Ridge()), ("knn", nb.KNeighborsRegressor()),
             ("gb", en.GradientBoostingRegressor(n_estimators=10, random_state=rs))],
            weights=[1, 2, 1])),
        Case("bagging_trees", "breast_cancer", lambda: en.BaggingClassifier(
            tree.DecisionTreeClassifier(random_state=rs), n_estimators=10, max_features=0.5,
            random_state=rs)),
        Case("bagging_votes", "wine", lambda: en.BaggingClassifier(
            pipe(sc(), svm.SVC()), n_estimators=5, max_samples=0.5, random_state=rs)),
        Case("bagging_regressor", "diabetes", lambda: en.BaggingRegressor(
            lm.Ridge(), n_estimators=6, max_features=0.7, random_state=rs)),
        Case("adaboost_samme_r", "iris_str",
             lambda: en.AdaBoostClassifier(n_estimators=20, random_state=rs), outputs=df),
        Case("adaboost_samme", "breast_cancer",
             lambda: en.AdaBoostClassifier(n_estimators=15, algorithm="SAMME",
                                           random_state=rs), outputs=df),
        Case("adaboost_regressor", "diabetes",
             lambda: en.AdaBoostRegressor(n_estimators=15, random_state=rs)),
        Case("calibrated_sigmoid", "breast_cancer", lambda: cal.CalibratedClassifierCV(
            pipe(sc(), svm.LinearSVC(random_state=rs)), cv=3)),
        Case("calibrated_isotonic", "iris_str", lambda: cal.CalibratedClassifierCV(
            en.RandomForestClassifier(10, random_state=rs), method="isotonic", cv=3)),
        Case("calibrated_svc_multi", "wine", lambda: cal.CalibratedClassifierCV(
            pipe(sc(), svm.SVC()), cv=3, ensemble=False)),
        Case("stacking", "iris_str", lambda: en.StackingClassifier(
            [("rf", en.RandomForestClassifier(10, random_state=rs)),
             ("svc", pipe(sc(), svm.SVC(random_state=rs)))],
            final_estimator=lm.LogisticRegression(), cv=3)),
        Case("stacking_passthrough", "breast_cancer", lambda: en.StackingClassifier(
            [("knn", pipe(sc(), nb.KNeighborsClassifier())),
             ("lr", pipe(sc(), lm.LogisticRegression()))],
            final_estimator=en.GradientBoostingClassifier(n_estimators=10, random_state=rs),
            passthrough=True, cv=3)),
        Case("stacking_regressor", "diabetes", lambda: en.StackingRegressor(
            [("ridge", lm.Ridge()), ("svr", pipe(sc(), svm.SVR(C=50.0)))],
            final_estimator=lm.Ridge(), cv=3)),
        Case("ttr_log", "diabetes", lambda: compose.TransformedTargetRegressor(
            lm.Ridge(), func=np.log, inverse_func=np.exp)),
        Case("ttr_standard", "diabetes", lambda: compose.TransformedTargetRegressor(
            nb.KNeighborsRegressor(), transformer=pp.StandardScaler())),
        Case("gaussian_nb", "iris_str", lambda: nb_.GaussianNB(),
             outputs=("predict_joint_log_proba",)),
        Case("gaussian_nb_digits", "digits", lambda: nb_.GaussianNB(var_smoothing=1e-2)),
        Case("qda", "wine", lambda: da.QuadraticDiscriminantAnalysis(reg_param=0.1),
             outputs=("decision_function",)),
        Case("qda_binary", "breast_cancer",
             lambda: da.QuadraticDiscriminantAnalysis(reg_param=0.05),
             outputs=("decision_function",)),
        Case("logistic_cv", "breast_cancer",
             lambda: pipe(sc(), lm.LogisticRegressionCV(cv=3, max_iter=500)), outputs=df),
        # category indexes: digits' pixels are 0..16; "_cat" datasets are floored to ints
        Case("categorical_nb_digits", "digits", lambda: nb_.CategoricalNB(),
             outputs=("predict_joint_log_proba",)),
        Case("categorical_nb_str", "iris_str_cat", lambda: nb_.CategoricalNB(alpha=0.5),
             outputs=("predict_joint_log_proba",)),
        Case("categorical_nb_binary", "breast_cancer_cat",
             lambda: nb_.CategoricalNB(alpha=2.0, min_categories=3000),
             outputs=("predict_joint_log_proba",)),
    ]


def _transformer_cases():
    """The numeric transformers (PolynomialFeatures, KBinsDiscretizer, Normalizer,
    QuantileTransformer, PowerTransformer) before a simple estimator, and inside longer
    Pipelines; the _nan datasets check that NaN passes through the two that allow it."""
    from sklearn import ensemble as en, linear_model as lm, preprocessing as pp, svm
    from sklearn.pipeline import make_pipeline as pipe
    rs = 0
    kb = pp.KBinsDiscretizer
    return [
        Case("poly2_linear", "diabetes", lambda: pipe(pp.PolynomialFeatures(2),
                                                      lm.LinearRegression())),
        Case("poly3_interaction_nobias_ridge", "diabetes", lambda: pipe(
            pp.PolynomialFeatures(3, interaction_only=True, include_bias=False),
            lm.Ridge())),
        Case("poly3_scaled_logistic", "iris_str", lambda: pipe(
            pp.StandardScaler(), pp.PolynomialFeatures(3), pp.StandardScaler(),
            lm.LogisticRegression(max_iter=2000))),
        Case("kbins_ordinal_uniform_linear", "diabetes", lambda: pipe(
            kb(5, encode="ordinal", strategy="uniform"), lm.LinearRegression())),
        Case("kbins_onehot_quantile_logistic", "breast_cancer", lambda: pipe(
            kb(4, encode="onehot", strategy="quantile"), lm.LogisticRegression(max_iter=2000))),
        Case("kbins_onehot_dense_kmeans_tree", "wine", lambda: pipe(
            kb(3, encode="onehot-dense", strategy="kmeans"),
            en.RandomForestClassifier(20, random_state=rs)), exact=True),
        Case("normalizer_l1_linear", "diabetes", lambda: pipe(pp.Normalizer("l1"),
                                                              lm.LinearRegression())),
        Case("normalizer_l2_svc", "iris_str", lambda: pipe(pp.Normalizer(), svm.SVC())),
        Case("normalizer_max_logistic", "wine", lambda: pipe(
            pp.Normalizer("max"), lm.LogisticRegression(max_iter=3000))),
        Case("quantile_uniform_linear", "diabetes", lambda: pipe(
            pp.QuantileTransformer(n_quantiles=100), lm.LinearRegression())),
        Case("quantile_normal_logistic", "breast_cancer", lambda: pipe(
            pp.QuantileTransformer(n_quantiles=50, output_distribution="normal"),
            lm.LogisticRegression(max_iter=2000))),
        Case("quantile_normal_hgb_nan", "wine_nan", lambda: pipe(
            pp.QuantileTransformer(n_quantiles=60, output_distribution="normal"),
            en.HistGradientBoostingClassifier(max_iter=20, random_state=rs))),
        Case("power_yeo_johnson_linear", "diabetes", lambda: pipe(
            pp.PowerTransformer(), lm.LinearRegression())),
        Case("power_box_cox_nostd_logistic", "iris_str", lambda: pipe(
            pp.PowerTransformer("box-cox", standardize=False),
            lm.LogisticRegression(max_iter=2000))),
        Case("power_yeo_johnson_hgb_nan", "diabetes_nan", lambda: pipe(
            pp.PowerTransformer(), en.HistGradientBoostingRegressor(max_iter=20))),
    ]


CASES = (_dense_cases() + _tree_cases() + _linear_family_cases() + _svm_cases() +
         _distance_cases() + _meta_cases() + _transformer_cases())
CASES_BY_ID = {c.id: c for c in CASES}
