"""Python twins of the contract models: scikit-learn estimators with the contracts' exact arithmetic."""
from ._base import ChainModel
from .perceptron import SparsePerceptron

__all__ = ["ChainModel", "SparsePerceptron"]
