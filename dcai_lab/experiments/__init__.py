"""Experiments: simulated contributors train a deployed model in simulated time; accuracy, balances and
gas all come from the same run on the chain.

One module per job: :mod:`.config` (what runs), :mod:`.simulation` (the event loop), :mod:`.run` (a run and
its manifest), :mod:`.sweep` (many runs: axes and seeds, joblib or Dask, intervals across seeds),
:mod:`.measure` (gas tables), :mod:`.reproduce` (the paper grid, its report and the two profiles'
deviations) and :mod:`.sgd_step` (the perceptron's constant step against the 2019 decreasing one).
"""
from ..encoded import encode, encoded_splits, test_set_hash
from .config import BACKENDS, FORKS, ExperimentConfig
from .measure import measure_operations
from .reproduce import (PUBLISHED_BASELINES, REPRODUCE_DATASETS, REPRODUCE_MODELS, profile_deviations,
                        profiles_section, reproduce)
from .run import CALIBRATION_CONTRIBUTIONS, run, twin_gas_model
from .sgd_step import compare_steps
from .sweep import Sweep, SweepConfig, sweep

__all__ = ["BACKENDS", "CALIBRATION_CONTRIBUTIONS", "FORKS", "PUBLISHED_BASELINES", "REPRODUCE_DATASETS",
           "REPRODUCE_MODELS", "ExperimentConfig", "Sweep", "SweepConfig", "compare_steps", "encode", "encoded_splits", "measure_operations",
           "profile_deviations", "profiles_section", "reproduce", "run", "sweep", "test_set_hash", "twin_gas_model"]
