"""What several tests build: the 20-index sample of earlier work, perceptron twins ready to deploy, and small
labelled tables standing for a user's own data."""
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


HAM = ["see you at lunch today", "call me later", "are we still on for dinner", "thanks for the book",
       "running late be there soon", "happy birthday to you"]
SPAM = ["win a free prize now", "claim your cash reward", "free entry to win cash", "urgent prize claim now",
        "you won a free holiday", "cash bonus claim today"]


def sms_frame(n: int = 120):
    """``n`` labelled messages (columns id, message, kind), ham and spam alternating."""
    import pandas as pd

    return pd.DataFrame([{"id": i, "message": (SPAM if i % 2 else HAM)[i // 2 % 6], "kind": "spam" if i % 2 else "ham"}
                         for i in range(n)])


def table_frame(n: int = 150, seed: int = 0):
    """``n`` rows of two numeric features and a categorical one that separate ``outcome`` 1 from 0."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    y = rng.random(n) < 0.5
    return pd.DataFrame({"height": np.where(y, rng.normal(180, 5, n), rng.normal(160, 5, n)),
                         "weight": np.where(y, rng.normal(80, 5, n), rng.normal(60, 5, n)),
                         "colour": np.where(y, "red", "blue"), "outcome": y.astype(int)})
