"""Python twins of the contract models: scikit-learn estimators with the contracts' exact arithmetic."""
from ._base import DENSE_ONE, ChainModel
from .naive_bayes import NaiveBayes
from .nearest_centroid import DenseNearestCentroid, SparseNearestCentroid
from .perceptron import DensePerceptron, SparsePerceptron
from .registry import (REGISTRY, ModelEntry, check_encoder, check_task, default_encoder, entry, entry_for, make,
                       names)

__all__ = ["DENSE_ONE", "REGISTRY", "ChainModel", "DenseNearestCentroid", "DensePerceptron", "ModelEntry",
           "NaiveBayes", "SparseNearestCentroid", "SparsePerceptron", "check_encoder", "check_task",
           "default_encoder", "entry", "entry_for", "make", "names"]
