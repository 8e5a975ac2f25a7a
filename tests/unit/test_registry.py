"""The model registry builds every model, knows what it takes, and refuses mismatches with the reason;
every twin's chain parameters turn back into the same twin."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dcai_lab import datasets, encoders, models
from dcai_lab.models import registry
from strategies import MODELS as STRATEGIES

TWINS = [models.SparsePerceptron, models.DensePerceptron, models.NaiveBayes, models.SparseNearestCentroid,
         models.DenseNearestCentroid]
# Tiny separable data of each input kind: indices (sparse) and fixed-point vectors (dense).
SPARSE_X, SPARSE_Y = [[0, 1], [0, 2], [3, 4], [3, 5], [1], [4]], [1, 1, 0, 0, 1, 0]
DENSE_X = [[1_000_000, 0], [900_000, 100_000], [-1_000_000, 0], [-800_000, -200_000]]
DENSE_Y = [1, 1, 0, 0]
TEXTS = ["a good film", "a bad film", "good good acting", "bad plot"]


def tiny_data(e: registry.ModelEntry):
    if e.input_kind == "dense":
        return DENSE_X, DENSE_Y, 2
    return SPARSE_X, SPARSE_Y, 6


def round_trip(twin):
    return type(twin).from_chain_params(twin.to_chain_params())


def test_names_are_those_of_experiment_configs():
    assert registry.names() == ("perceptron", "nb", "ncc", "dense-perceptron", "dense-ncc")
    assert {n: registry.entry(n).twin for n in registry.names()} == {
        "perceptron": models.SparsePerceptron, "nb": models.NaiveBayes, "ncc": models.SparseNearestCentroid,
        "dense-perceptron": models.DensePerceptron, "dense-ncc": models.DenseNearestCentroid}
    assert models.REGISTRY is registry.REGISTRY and set(models.REGISTRY) == set(registry.names())


def test_entries_say_what_each_model_takes():
    kinds = {n: (e.input_kind, e.binary_only, e.repeated_indices) for n, e in models.REGISTRY.items()}
    assert kinds == {"perceptron": ("sparse", True, False), "nb": ("sparse", False, True),
                     "ncc": ("sparse", False, False), "dense-perceptron": ("dense", True, False),
                     "dense-ncc": ("dense", False, False)}
    assert models.entry("nb").contract_name == "NaiveBayes"


@pytest.mark.parametrize("name", registry.names())
def test_every_entry_builds_fits_and_round_trips(name):
    e = models.entry(name)
    X, y, n_features = tiny_data(e)
    twin = models.make(name, n_features=n_features, n_classes=2, seed=0)
    assert type(twin) is e.twin and not hasattr(twin, "classes_")  # unfitted
    twin.fit(X, y)
    assert twin.score(X, y) == 1.0
    back = round_trip(twin)
    assert type(back) is e.twin
    assert back.to_chain_params() == twin.to_chain_params()
    assert back.predict(X).tolist() == twin.predict(X).tolist()
    assert models.entry_for(twin) is e and models.entry_for(e.twin) is e


@pytest.mark.parametrize("name, expected", [
    ("perceptron", models.SparsePerceptron(n_features=17, random_state=5)),
    ("nb", models.NaiveBayes(n_features=17, n_classes=3)),
    ("ncc", models.SparseNearestCentroid(n_features=17, n_classes=3)),
    ("dense-perceptron", models.DensePerceptron(n_features=17, random_state=5)),
    ("dense-ncc", models.DenseNearestCentroid(n_features=17, n_classes=3)),
])
def test_make_builds_what_experiments_built(name, expected):
    """experiments.make_model, moved: features, classes when the model has them, the seed as random_state
    when it has one, every other setting at its default."""
    n_classes = 2 if models.entry(name).binary_only else 3
    assert models.make(name, n_features=17, n_classes=n_classes, seed=5).get_params() == expected.get_params()


def test_binary_only_models_refuse_more_classes_naming_the_alternatives():
    with pytest.raises(ValueError, match="perceptron is binary-only .*3 classes need nb or ncc"):
        models.make("perceptron", n_features=10, n_classes=3, seed=0)
    with pytest.raises(ValueError, match="dense-perceptron is binary-only .*10 classes need dense-ncc"):
        models.make("dense-perceptron", n_features=10, n_classes=10, seed=0)
    assert models.make("ncc", n_features=10, n_classes=3, seed=0).n_classes == 3


def test_unknown_model_is_refused_with_the_known_names():
    with pytest.raises(ValueError, match="unknown model 'svm'; choose one of perceptron, nb, ncc, "
                                         "dense-perceptron, dense-ncc"):
        models.entry("svm")
    with pytest.raises(ValueError, match="dense-ncc"):
        models.make("svm", n_features=3, n_classes=2, seed=0)
    with pytest.raises(ValueError, match="choose one of"):
        models.check_encoder("svm", encoders.Hashing(n_features=8).fit())


def test_entry_for_finds_subclasses_and_refuses_strangers():
    class Tuned(models.NaiveBayes):
        pass

    assert models.entry_for(Tuned(n_features=3)).name == "nb"
    with pytest.raises(ValueError, match="not a registered model; registered twins: SparsePerceptron"):
        models.entry_for(object())


@pytest.mark.parametrize("twin", TWINS, ids=lambda c: c.__name__)
def test_constructors_are_keyword_only(twin):
    with pytest.raises(TypeError, match="positional"):
        twin(10)
    assert twin(n_features=10).n_features == 10


@pytest.mark.parametrize("kind", STRATEGIES)
def test_chain_params_round_trip_on_random_states(kind):
    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.data())
    def check(data):
        twin, sample, _ = data.draw(STRATEGIES[kind]())
        params = twin.to_chain_params()
        back = type(twin).from_chain_params(params)
        assert back.to_chain_params() == params
        queries = data.draw(st.lists(sample, min_size=1, max_size=4))
        assert back.predict(queries).tolist() == twin.predict(queries).tolist()

    check()


def test_every_registered_model_has_a_random_state_strategy():
    assert {e.twin.__name__ for e in models.REGISTRY.values()} == set(STRATEGIES)


def test_from_chain_params_keeps_the_settings_the_chain_does_not_hold():
    twin = models.SparsePerceptron(n_features=6, max_iter=7, shuffle=False).fit(SPARSE_X, SPARSE_Y)
    back = models.SparsePerceptron.from_chain_params(twin.to_chain_params(), max_iter=7, shuffle=False)
    assert (back.max_iter, back.shuffle, back.max_input_length) == (7, False, 6)


def test_from_chain_params_refuses_another_models_parameters():
    params = models.NaiveBayes(n_features=4).to_chain_params()
    with pytest.raises(ValueError, match="not SparseNearestCentroid chain parameters: missing squaredNorms, sums; "
                                         "unexpected counts, smoothing, tokens"):
        models.SparseNearestCentroid.from_chain_params(params)
    with pytest.raises(TypeError, match="takes a dict"):
        models.NaiveBayes.from_chain_params([1, 2])


def test_from_chain_params_refuses_totals_that_disagree_with_the_counts():
    nb = models.NaiveBayes(n_features=6).fit(SPARSE_X, SPARSE_Y).to_chain_params()
    with pytest.raises(ValueError, match="tokens do not match"):
        models.NaiveBayes.from_chain_params({**nb, "tokens": [t + 1 for t in nb["tokens"]]})
    ncc = models.DenseNearestCentroid(n_features=2).fit(DENSE_X, DENSE_Y).to_chain_params()
    with pytest.raises(ValueError, match="squaredNorms do not match"):
        models.DenseNearestCentroid.from_chain_params({**ncc, "squaredNorms": [0, 0]})


def test_set_state_is_public_and_checks_what_the_contract_could_hold():
    twin = models.SparsePerceptron(n_features=3).set_state([5, -5, 0], intercept=-1)
    assert twin.predict([[0], [1]]).tolist() == [1, 0]
    assert models.SparsePerceptron(n_features=3).set_state().coef_.tolist() == [0, 0, 0]
    with pytest.raises(ValueError, match="coef must have 3 = 3 values, got 2"):
        models.SparsePerceptron(n_features=3).set_state([1, 2])
    with pytest.raises(ValueError, match="value 2147483648 at position 1 does not fit in int32"):
        models.SparsePerceptron(n_features=3).set_state([0, 2**31, 0])
    models.DensePerceptron(n_features=1).set_state([2**31], intercept=2**62)  # int64 weights
    with pytest.raises(ValueError, match="intercept: value .* does not fit in int64"):
        models.DensePerceptron(n_features=1).set_state([0], intercept=2**63)
    with pytest.raises(ValueError, match="not an integer"):
        models.DensePerceptron(n_features=2).set_state([0.5, 1])
    nb = models.NaiveBayes(n_features=2, n_classes=3).set_state(np.arange(6), [1, 2, 3])
    assert nb.feature_count_.tolist() == [[0, 1, 2], [3, 4, 5]]  # flat is feature-major, as on chain
    with pytest.raises(ValueError, match="feature_count: value -1 .* does not fit in uint32"):
        models.NaiveBayes(n_features=1).set_state([-1, 0])
    with pytest.raises(ValueError, match="sums must have 2 x 2 = 4 values"):
        models.SparseNearestCentroid(n_features=2).set_state([[1, 2, 3]])
    with pytest.raises(ValueError, match="class_count: value 4294967296 .* uint32"):
        models.DenseNearestCentroid(n_features=1).set_state([[1, -1]], [2**32, 0])


def test_check_task_refuses_before_any_data_is_loaded():
    with pytest.raises(ValueError, match="^dense-ncc takes fixed-point vectors; imdb is a text task: use "
                                         "perceptron, nb or ncc$"):
        models.check_task("dense-ncc", "imdb")
    with pytest.raises(ValueError, match="tic_tac_toe has categorical columns"):
        models.entry("dense-perceptron").check_task(datasets.task("tic_tac_toe"))
    with pytest.raises(ValueError, match=r"perceptron is binary-only .*10 classes \(digits\) need nb or ncc"):
        models.check_task("perceptron", "digits")
    for name in registry.names():
        models.check_task(name, "fitness_synthetic")  # binary, all numeric: every model takes it
    for name in ("perceptron", "nb", "ncc"):
        models.check_task(name, "imdb")
        models.check_task(name, "titanic")
    models.check_task("dense-ncc", "digits")


def test_dense_model_on_a_text_task_is_refused():
    with pytest.raises(ValueError, match="^dense-perceptron takes fixed-point vectors; imdb is a text task: use "
                                         "perceptron, nb or ncc$"):
        models.default_encoder("dense-perceptron", "imdb", None)
    with pytest.raises(ValueError, match="dense-ncc takes fixed-point vectors; sms_spam is a text task"):
        models.entry("dense-ncc").default_encoder(datasets.task("sms_spam"), None)


def test_dense_model_on_a_table_with_categories_is_refused():
    import datasets as hf

    t = datasets.task("titanic")
    train = hf.Dataset.from_dict({c: [1.0, 2.0] for c in t.numeric} | {"Pclass": [1, 3], "Sex": ["male", "female"],
                                  "Embarked": ["S", "C"], "label": [0, 1]})
    with pytest.raises(ValueError, match=r"titanic has categorical columns \(Pclass, Sex, Embarked\), which "
                                         r"encoders.FixedPoint cannot encode: use perceptron, nb or ncc"):
        models.default_encoder("dense-ncc", t, train)
    assert isinstance(models.default_encoder("ncc", t, train), encoders.TabularBinarizer)


def test_default_encoders():
    """Sparse models keep encoders.for_task exactly; dense models standardise the numeric columns."""
    train = datasets.load("wine", "train")
    task = datasets.task("wine")
    expected = encoders.for_task(task, train).to_json()
    for name in ("perceptron", "nb", "ncc"):
        assert models.default_encoder(name, "wine", train).to_json() == expected
    dense = models.default_encoder("dense-ncc", task, train)
    assert isinstance(dense, encoders.FixedPoint) and dense.n_features == len(train.column_names) - 1
    X = dense.transform(train)
    twin = models.make("dense-ncc", n_features=dense.n_features, n_classes=task.n_classes, seed=0)
    assert twin.fit(X, train["label"]).score(X, train["label"]) > 0.9
    models.check_encoder("dense-ncc", dense)


def test_text_default_encoder_is_for_task_for_every_sparse_model():
    import datasets as hf

    train = hf.Dataset.from_dict({"text": TEXTS, "label": [1, 0, 1, 0]})
    expected = encoders.for_task(datasets.task("imdb"), train)
    assert expected.binary  # Naive Bayes too gets presence, as in the published runs
    for name in ("perceptron", "nb", "ncc"):
        assert models.default_encoder(name, "imdb", train).to_json() == expected.to_json()


@pytest.mark.parametrize("name", ["dense-perceptron", "dense-ncc"])
@pytest.mark.parametrize("encoder", [encoders.Vocabulary(k=10).fit(TEXTS), encoders.Hashing(n_features=8).fit(),
                                     encoders.TabularBinarizer(numeric=["a"]).fit([{"a": 1}, {"a": 2}])],
                         ids=lambda e: type(e).__name__)
def test_dense_models_refuse_sparse_encoders(name, encoder):
    with pytest.raises(ValueError, match=f"{name} takes fixed-point vectors; {type(encoder).__name__} gives sorted "
                                         "feature indices: use encoders.FixedPoint"):
        models.check_encoder(name, encoder)


@pytest.mark.parametrize("name", ["perceptron", "nb", "ncc"])
def test_sparse_models_refuse_fixed_point(name):
    with pytest.raises(ValueError, match=f"{name} takes sorted feature indices; FixedPoint gives fixed-point "
                                         r"vectors: use a sparse encoder .* or a dense model \(dense-perceptron"):
        models.check_encoder(name, encoders.FixedPoint().fit([[1.0], [2.0]]))


def test_repeated_indices_only_for_naive_bayes():
    counts = encoders.Vocabulary(k=10, binary=False).fit(TEXTS)
    models.check_encoder("nb", counts)
    for name in ("perceptron", "ncc"):
        with pytest.raises(ValueError, match=f"{name} takes each feature index at most once; this Vocabulary has "
                                             "binary=False .*: use binary=True, or nb"):
            models.check_encoder(name, counts)
        models.check_encoder(name, encoders.Hashing(n_features=8).fit())


def test_encoders_of_unknown_kind_are_refused_unless_they_say():
    class Custom:
        pass

    with pytest.raises(TypeError, match="cannot tell what Custom outputs"):
        models.check_encoder("nb", Custom())
    Custom.input_kind = "dense"
    models.check_encoder("dense-ncc", Custom())
