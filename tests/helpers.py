"""What several tests build: the 20-index sample of earlier work and perceptron twins ready to deploy."""
import numpy as np

from dcai_lab import models

SAMPLE = [1, 2, 3, 14, 15, 26, 37, 48, 59, 110, 111, 112, 213, 314, 515, 616, 717, 818, 919, 920]


def perceptron(n_features=1000, weights=None, intercept=0, **params):
    """A twin with given (or zero) weights, ready to deploy."""
    twin = models.SparsePerceptron(n_features=n_features, **params)
    twin.set_state(np.zeros(n_features, dtype=np.int64) if weights is None else weights, intercept)
    return twin


def positive_on_sample(n_features=1000, seed=0):
    """Random non-zero weights, strongly positive on SAMPLE so a single update does not flip it."""
    rng = np.random.default_rng(seed)
    w = rng.integers(1_000, 5_000, n_features) * rng.choice([-1, 1], n_features)
    w[SAMPLE] = np.abs(w[SAMPLE])
    return perceptron(n_features, w)
