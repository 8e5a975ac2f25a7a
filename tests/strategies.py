"""Hypothesis strategies for every contract model: a twin with random parameters (some at their limits,
so that overflows happen), a sample strategy and a label strategy."""
from hypothesis import strategies as st

from dcai_lab import models

INT32 = 2**31 - 1
INT64 = 2**63 - 1


def sparse_sample(n, repeats=False, max_length=8):
    if repeats:
        return st.lists(st.integers(0, n - 1), min_size=1, max_size=max_length).map(sorted)
    return st.lists(st.integers(0, n - 1), min_size=1, max_size=n, unique=True).map(sorted)


def near(limit, width=3000):
    return st.integers(limit - width, limit)


def step_schedule(draw):
    """A perceptron's step_decay and seen counter: constant, decaying, or with the counter near saturation."""
    decay = draw(st.one_of(st.just(0), st.integers(1, 60), near(2**32 - 1, 3)))
    seen = draw(st.one_of(st.integers(0, 100), near(2**32 - 1, 3)))
    return decay, seen


@st.composite
def sparse_perceptron(draw):
    n = draw(st.integers(1, 40))
    w = st.one_of(st.integers(-5000, 5000), near(INT32), near(-INT32 - 1 + 3000))
    decay, seen = step_schedule(draw)
    twin = models.SparsePerceptron(n_features=n, learning_rate=draw(st.integers(1, 3000)), step_decay=decay)
    twin.set_state(draw(st.lists(w, min_size=n, max_size=n)), draw(st.integers(-10_000, 10_000)), seen)
    return twin, sparse_sample(n), st.integers(0, 1)


@st.composite
def dense_perceptron(draw):
    n = draw(st.integers(1, 10))
    limit = draw(st.sampled_from([1000, 10**6, INT32]))
    w = st.one_of(st.integers(-10**12, 10**12), near(INT64, 10**15), near(-INT64 + 10**15, 10**15))
    decay, seen = step_schedule(draw)
    twin = models.DensePerceptron(n_features=n, learning_rate=draw(st.integers(1, 1000)), step_decay=decay,
                                  max_abs_value=limit)
    twin.set_state(draw(st.lists(w, min_size=n, max_size=n)), draw(st.integers(-10**9, 10**9)), seen)
    sample = st.lists(st.integers(-limit, limit), min_size=n, max_size=n)
    return twin, sample, st.integers(0, 1)


@st.composite
def naive_bayes(draw):
    n, c = draw(st.integers(1, 25)), draw(st.integers(2, 4))
    count = st.one_of(st.integers(0, 40), near(2**32 - 1, 5))
    max_length = draw(st.integers(1, 12))
    twin = models.NaiveBayes(n_features=n, n_classes=c, smoothing=draw(st.integers(1, 5000)),
                             max_input_length=max_length)
    twin.set_state(draw(st.lists(count, min_size=n * c, max_size=n * c)),
                     draw(st.lists(st.integers(0, 30), min_size=c, max_size=c)))
    return twin, sparse_sample(n, repeats=True, max_length=max_length), st.integers(0, c - 1)


@st.composite
def sparse_centroid(draw):
    n, c = draw(st.integers(1, 25)), draw(st.integers(2, 4))
    s = st.one_of(st.integers(0, 40), near(2**32 - 1, 3))
    twin = models.SparseNearestCentroid(n_features=n, n_classes=c)
    twin.set_state(draw(st.lists(s, min_size=n * c, max_size=n * c)),
                     draw(st.lists(st.integers(0, 30), min_size=c, max_size=c)))
    return twin, sparse_sample(n), st.integers(0, c - 1)


@st.composite
def dense_centroid(draw):
    n, c = draw(st.integers(1, 8)), draw(st.integers(2, 3))
    limit = draw(st.sampled_from([1000, 10**6, INT32]))
    s = st.one_of(st.integers(-10**9, 10**9), near(INT64, 2**32), near(-INT64 + 2**32, 2**32))
    twin = models.DenseNearestCentroid(n_features=n, n_classes=c, max_abs_value=limit)
    twin.set_state(draw(st.lists(s, min_size=n * c, max_size=n * c)),
                     draw(st.lists(st.integers(0, 30), min_size=c, max_size=c)))
    return twin, st.lists(st.integers(-limit, limit), min_size=n, max_size=n), st.integers(0, c - 1)


MODELS = {"SparsePerceptron": sparse_perceptron, "DensePerceptron": dense_perceptron,
          "NaiveBayes": naive_bayes, "SparseNearestCentroid": sparse_centroid, "DenseNearestCentroid": dense_centroid}
