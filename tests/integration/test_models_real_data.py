"""Twins against scikit-learn's float models on real data: accuracy within 1 percentage point.

IMDB (1000-word vocabulary) from the data directory for the sparse models; Spambase from the data
directory and scikit-learn's bundled breast-cancer data, standardised to fixed point, for the dense ones. A small slice by default, more
under the slow marker.
"""
import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import Perceptron
from sklearn.model_selection import train_test_split
from sklearn.naive_bayes import MultinomialNB
from sklearn.neighbors import NearestCentroid

from dcai_lab import datasets, encoders, models

needs_imdb = pytest.mark.skipif(not datasets.has("imdb", "test"), reason="IMDB not in the data directory (CI sets it)")


def imdb(n_train, n_test, seed=0):
    train, test = datasets.load("imdb", "train"), datasets.load("imdb", "test")
    rng = np.random.default_rng(seed)
    tr, te = rng.permutation(len(train))[:n_train], rng.permutation(len(test))[:n_test]
    enc = encoders.Vocabulary(k=1000).fit(train.select(tr)["text"])
    X_tr, X_te = enc.transform(train.select(tr)["text"]), enc.transform(test.select(te)["text"])
    keep_tr, keep_te = [i for i, x in enumerate(X_tr) if len(x)], [i for i, x in enumerate(X_te) if len(x)]
    y_tr, y_te = np.asarray(train.select(tr)["label"]), np.asarray(test.select(te)["label"])
    return ([X_tr[i] for i in keep_tr], y_tr[keep_tr], [X_te[i] for i in keep_te], y_te[keep_te])


def binary_matrix(rows, n=1000):
    return models.SparseNearestCentroid(n_features=n, max_input_length=n)._rows(rows)


def compare_sparse(n_train, n_test):
    X_tr, y_tr, X_te, y_te = imdb(n_train, n_test)
    M_tr, M_te = binary_matrix(X_tr), binary_matrix(X_te)
    pairs = {
        "NaiveBayes": (models.NaiveBayes(n_features=1000), MultinomialNB(alpha=1.0)),
        "SparseNearestCentroid": (models.SparseNearestCentroid(n_features=1000), NearestCentroid()),
        "SparsePerceptron": (models.SparsePerceptron(n_features=1000, max_iter=5, shuffle=False),
                             Perceptron(max_iter=5, tol=None, shuffle=False, eta0=1.0)),
    }
    # Dense arrays for scikit-learn: on sparse input its SGD damps intercept updates (intercept_decay).
    M_tr, M_te = M_tr.toarray(), M_te.toarray()
    return {name: (twin.fit(X_tr, y_tr).score(X_te, y_te), ref.fit(M_tr, y_tr).score(M_te, y_te))
            for name, (twin, ref) in pairs.items()}


def tabular(name, seed=0):
    if name == "breast_cancer":
        X, y = load_breast_cancer(return_X_y=True)
    else:
        frame = datasets.load(name).to_pandas()
        X, y = frame.drop(columns="label").to_numpy(float), frame["label"].to_numpy()
    return train_test_split(X, y, test_size=0.3, random_state=seed, stratify=y)


def compare_dense(name="breast_cancer"):
    X_tr, X_te, y_tr, y_te = tabular(name)
    enc = encoders.FixedPoint().fit(X_tr)
    F_tr, F_te = enc.transform(X_tr), enc.transform(X_te)
    n = F_tr.shape[1]
    pairs = {
        "DenseNearestCentroid": (models.DenseNearestCentroid(n_features=n), NearestCentroid()),
        "DensePerceptron": (models.DensePerceptron(n_features=n, max_iter=5, shuffle=False),
                            Perceptron(max_iter=5, tol=None, shuffle=False, eta0=1.0)),
    }
    return {name: (twin.fit(F_tr, y_tr).score(F_te, y_te), ref.fit(F_tr / enc.ONE, y_tr).score(F_te / enc.ONE, y_te))
            for name, (twin, ref) in pairs.items()}


def assert_close(results):
    for name, (ours, theirs) in results.items():
        assert abs(ours - theirs) <= 0.01, f"{name}: twin {ours:.4f} vs scikit-learn {theirs:.4f}"


def test_dense_models_match_scikit_learn_on_breast_cancer():
    assert_close(compare_dense("breast_cancer"))


@pytest.mark.skipif(not datasets.has("spambase"), reason="Spambase not in the data directory (CI sets it)")
def test_dense_models_match_scikit_learn_on_spambase():
    assert_close(compare_dense("spambase"))


@needs_imdb
def test_sparse_models_match_scikit_learn_on_imdb():
    assert_close(compare_sparse(2000, 2000))


@pytest.mark.slow
@needs_imdb
def test_sparse_models_match_scikit_learn_on_more_imdb():
    assert_close(compare_sparse(10_000, 10_000))
