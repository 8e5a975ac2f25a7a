"""The model registry: one entry per contract model, under the short name experiment configs use.

An entry says what the model takes (sparse feature indices or dense fixed-point vectors, repeated
indices or not, two classes or any number), builds an unfitted twin (:func:`make`), fits the default
encoder for a task (:func:`default_encoder`) and refuses an encoder that does not produce the model's
input (:func:`check_encoder`), each with the reason and what to use instead.

>>> from dcai_lab.models import registry
>>> registry.names()
('perceptron', 'nb', 'ncc', 'dense-perceptron', 'dense-ncc')
>>> registry.make("nb", n_features=1000, n_classes=3, seed=0)
NaiveBayes(n_classes=3)
"""
from __future__ import annotations

from dataclasses import dataclass

from .. import encoders
from ._base import ChainModel
from .naive_bayes import NaiveBayes
from .nearest_centroid import DenseNearestCentroid, SparseNearestCentroid
from .perceptron import DensePerceptron, SparsePerceptron

SPARSE, DENSE = "sparse", "dense"
# Estimator parameters a run sets from its data and seed, never from a config's model_params.
RUN_SETS = frozenset({"n_features", "n_classes", "random_state"})
# What each encoder of dcai_lab.encoders outputs. An encoder of another kind may declare its own
# ``input_kind`` attribute ("sparse" or "dense").
ENCODER_KINDS = {encoders.Vocabulary: SPARSE, encoders.Hashing: SPARSE, encoders.TabularBinarizer: SPARSE,
                 encoders.FixedPoint: DENSE}


@dataclass(frozen=True)
class ModelEntry:
    """One contract model, as experiments name and use it.

    Attributes
    ----------
    name : str
        Short name in experiment configs (``model = "nb"``).
    twin : type of ChainModel
        The Python twin class.
    input_kind : {"sparse", "dense"}
        Sparse: sorted feature indices (a text or binarised table); dense: fixed-point vectors
        (``1_000_000`` = 1.0) from :class:`dcai_lab.encoders.FixedPoint`.
    binary_only : bool
        Whether the model has exactly two classes (the perceptrons).
    repeated_indices : bool
        Whether a sample may repeat an index to count it again (Naive Bayes' token counts); the other
        sparse models take each index at most once.
    description : str
        One line for listings.
    """

    name: str
    twin: type[ChainModel]
    input_kind: str
    binary_only: bool
    repeated_indices: bool
    description: str

    @property
    def contract_name(self) -> str:
        return self.twin.contract_name

    def make(self, *, n_features: int, n_classes: int = 2, seed: int | None = None,
             params: dict | None = None) -> ChainModel:
        """An unfitted twin for ``n_features`` features and ``n_classes`` classes; ``seed`` is its
        ``random_state`` when it has one (the perceptrons' shuffle); ``params`` are further estimator
        parameters (a config's ``model_params``, e.g. the perceptrons' ``step_decay``). Refuses more than two
        classes for a binary-only model, naming the models that take them."""
        self._check_classes(n_classes)
        self.check_params(params)
        accepted = self.twin().get_params()
        made = {"n_features": n_features, **(params or {})}
        if "n_classes" in accepted:
            made["n_classes"] = n_classes
        if "random_state" in accepted:
            made["random_state"] = seed
        return self.twin(**made)

    def check_params(self, params: dict | None) -> None:
        """Refuse estimator parameters this model does not take, or that a run sets itself, by name."""
        if params is None:
            return
        if not isinstance(params, dict):
            raise TypeError(f"model_params must be a table of parameter names and values, got {params!r}")
        settable = sorted(set(self.twin().get_params()) - RUN_SETS)
        fixed = sorted(set(params) & RUN_SETS)
        if fixed:
            raise ValueError(f"model_params may not set {fixed}: a run takes them from the data and its seed; "
                             f"{self.name} takes {settable}")
        unknown = sorted(set(params) - set(settable))
        if unknown:
            raise ValueError(f"model {self.name!r} has no parameter {unknown}; it takes {settable}")

    def check_task(self, task) -> None:
        """Refuse a task this model cannot learn, before any data is loaded: a dense model on a text
        task or on a table with categorical columns (``FixedPoint`` encodes numbers only), a binary-only
        model on more than two classes. ``task`` is a :class:`dcai_lab.datasets.Task` or its name."""
        from .. import datasets

        task = datasets.task(task) if isinstance(task, str) else task
        self._check_classes(task.n_classes, f" ({task.name})")
        self._check_input(task)

    def _check_input(self, task) -> None:
        """Refuse a task whose samples no encoder turns into this model's input."""
        from .. import datasets

        if self.input_kind == SPARSE:
            return
        if task.kind == "text":
            raise ValueError(f"{self.name} takes fixed-point vectors; {task.name} is a text task: use "
                             f"{_choices(_names(input_kind=SPARSE))}")
        _, categorical = datasets.feature_columns(task, ())  # the columns matter only for all-numeric tables
        if categorical:
            raise ValueError(f"{self.name} takes fixed-point vectors of numeric columns; {task.name} has "
                             f"categorical columns ({', '.join(categorical)}), which encoders.FixedPoint cannot "
                             f"encode: use {_choices(_names(input_kind=SPARSE))} (TabularBinarizer gives each "
                             "category a feature)")

    def default_encoder(self, task, train):
        """The encoder this model uses for ``task`` (a :class:`dcai_lab.datasets.Task` or its name), fitted
        on the training split ``train``.

        Sparse models: :func:`dcai_lab.encoders.for_task`, unchanged (a 1000-word binary ``Vocabulary``
        for text, Naive Bayes included; a ``TabularBinarizer`` for tables), so that results stay as
        published. Dense models: ``FixedPoint`` standardising the task's numeric columns; refused for
        text tasks and for tables with categorical columns, which ``FixedPoint`` cannot encode.
        """
        from .. import datasets

        task = datasets.task(task) if isinstance(task, str) else task
        self._check_input(task)  # the number of classes is the model's concern, not the encoder's
        if self.input_kind == SPARSE:
            return encoders.for_task(task, train)
        numeric, _ = datasets.feature_columns(task, train.column_names)
        return encoders.FixedPoint(columns=list(numeric)).fit(train)

    def check_encoder(self, encoder) -> None:
        """Refuse an encoder whose output this model does not take, with the reason."""
        kind = encoder_kind(encoder)
        encoder_name = type(encoder).__name__
        if kind != self.input_kind:
            if kind == DENSE:
                fix = (f"use a sparse encoder (Vocabulary, Hashing or TabularBinarizer), or a dense model "
                       f"({_choices(_names(input_kind=DENSE))}) with this encoder")
            else:
                fix = (f"use encoders.FixedPoint, or a sparse model ({_choices(_names(input_kind=SPARSE))}) "
                       "with this encoder")
            raise ValueError(f"{self.name} takes {_INPUTS[self.input_kind]}; {encoder_name} gives "
                             f"{_INPUTS[kind]}: {fix}")
        # Counts as repeated indices: only Naive Bayes reads them; the others refuse repeats on every sample.
        if kind == SPARSE and not self.repeated_indices and not getattr(encoder, "binary", True):
            raise ValueError(f"{self.name} takes each feature index at most once; this {encoder_name} has "
                             f"binary=False (indices repeated by count): use binary=True, or "
                             f"{_choices(_names(repeated_indices=True))}")

    def _check_classes(self, n_classes: int, where: str = "") -> None:
        if self.binary_only and n_classes != 2:
            alternatives = _names(input_kind=self.input_kind, binary_only=False) or _names(binary_only=False)
            raise ValueError(f"{self.name} is binary-only ({self.twin.__name__} has two classes); "
                             f"{n_classes} classes{where} need {_choices(alternatives)}")


_INPUTS = {SPARSE: "sorted feature indices", DENSE: "fixed-point vectors"}

REGISTRY: dict[str, ModelEntry] = {e.name: e for e in [
    ModelEntry("perceptron", SparsePerceptron, SPARSE, binary_only=True, repeated_indices=False,
               description="binary perceptron on present-feature indices (int32 weights)"),
    ModelEntry("nb", NaiveBayes, SPARSE, binary_only=False, repeated_indices=True,
               description="multinomial Naive Bayes on token indices, exact integer comparison"),
    ModelEntry("ncc", SparseNearestCentroid, SPARSE, binary_only=False, repeated_indices=False,
               description="nearest centroid on binary features given as indices"),
    ModelEntry("dense-perceptron", DensePerceptron, DENSE, binary_only=True, repeated_indices=False,
               description="binary perceptron on fixed-point vectors (int64 weights)"),
    ModelEntry("dense-ncc", DenseNearestCentroid, DENSE, binary_only=False, repeated_indices=False,
               description="nearest centroid on fixed-point vectors"),
]}


def names() -> tuple[str, ...]:
    """The registered short names, in registry order."""
    return tuple(REGISTRY)


def entry(name: str) -> ModelEntry:
    """The entry named ``name``; an unknown name is refused with the known ones."""
    try:
        return REGISTRY[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown model {name!r}; choose one of {', '.join(REGISTRY)}") from None


def entry_for(twin) -> ModelEntry:
    """The entry of a twin instance or class (a subclass of a registered twin finds its nearest
    registered ancestor)."""
    cls = twin if isinstance(twin, type) else type(twin)
    by_class = {e.twin: e for e in REGISTRY.values()}
    for klass in cls.__mro__:
        if klass in by_class:
            return by_class[klass]
    raise ValueError(f"{cls.__name__} is not a registered model; registered twins: "
                     f"{', '.join(e.twin.__name__ for e in REGISTRY.values())}")


def make(name: str, *, n_features: int, n_classes: int = 2, seed: int | None = None,
         params: dict | None = None) -> ChainModel:
    """An unfitted twin of model ``name`` (see :meth:`ModelEntry.make`)."""
    return entry(name).make(n_features=n_features, n_classes=n_classes, seed=seed, params=params)


def default_encoder(name: str, task, train):
    """The fitted default encoder of model ``name`` for ``task`` (see :meth:`ModelEntry.default_encoder`)."""
    return entry(name).default_encoder(task, train)


def check_task(name: str, task) -> None:
    """Refuse a task model ``name`` cannot learn (see :meth:`ModelEntry.check_task`)."""
    entry(name).check_task(task)


def check_encoder(name: str, encoder) -> None:
    """Refuse an encoder whose output model ``name`` does not take (see :meth:`ModelEntry.check_encoder`)."""
    entry(name).check_encoder(encoder)


def encoder_kind(encoder) -> str:
    """``"sparse"`` or ``"dense"``: what ``encoder`` outputs."""
    kind = getattr(encoder, "input_kind", None) or next(
        (k for cls, k in ENCODER_KINDS.items() if isinstance(encoder, cls)), None)
    if kind not in _INPUTS:
        raise TypeError(f"cannot tell what {type(encoder).__name__} outputs: use an encoder of dcai_lab.encoders "
                        f"({', '.join(c.__name__ for c in ENCODER_KINDS)}) or give it an input_kind attribute, "
                        "'sparse' or 'dense'")
    return kind


def _names(**match) -> list[str]:
    return [e.name for e in REGISTRY.values() if all(getattr(e, k) == v for k, v in match.items())]


def _choices(options) -> str:
    """'a', 'a or b', 'a, b or c'."""
    options = list(options)
    return options[0] if len(options) == 1 else f"{', '.join(options[:-1])} or {options[-1]}"
