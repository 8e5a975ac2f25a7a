"""Python twins of the contract models: scikit-learn estimators with the contracts' exact arithmetic."""
from ._base import DENSE_ONE, ChainModel
from .naive_bayes import NaiveBayes
from .nearest_centroid import DenseNearestCentroid, SparseNearestCentroid
from .perceptron import DensePerceptron, SparsePerceptron

__all__ = ["DENSE_ONE", "ChainModel", "DenseNearestCentroid", "DensePerceptron", "NaiveBayes",
           "SparseNearestCentroid", "SparsePerceptron"]
