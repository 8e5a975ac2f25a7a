"""Experiments: simulated contributors train a deployed model in simulated time; accuracy, balances and
gas all come from the same run on the chain.

One module per job: :mod:`.config` (what runs), :mod:`.simulation` (the event loop), :mod:`.run` (a run and
its manifest), :mod:`.measure` (gas tables) and :mod:`.reproduce` (the paper grid and its report).
"""
from ..encoded import encode, encoded_splits, test_set_hash
from .config import BACKENDS, FORKS, ExperimentConfig
from .measure import measure_operations
from .reproduce import PUBLISHED_BASELINES, REPRODUCE_DATASETS, REPRODUCE_MODELS, reproduce
from .run import CALIBRATION_CONTRIBUTIONS, run
from .sgd_step import compare_steps

__all__ = ["BACKENDS", "CALIBRATION_CONTRIBUTIONS", "FORKS", "PUBLISHED_BASELINES", "REPRODUCE_DATASETS",
           "REPRODUCE_MODELS", "ExperimentConfig", "encode", "encoded_splits", "measure_operations", "reproduce",
           "run", "test_set_hash"]
