"""Every model refuses bad input with a named reason, on chain and in its twin alike."""
import pytest

from dcai_lab import ContractRevert, models

SPARSE = [models.SparsePerceptron(n_features=10, max_input_length=4), models.NaiveBayes(n_features=10, n_classes=3,
          max_input_length=4), models.SparseNearestCentroid(n_features=10, n_classes=3, max_input_length=4)]
DENSE = [models.DensePerceptron(n_features=3, max_abs_value=1000),
         models.DenseNearestCentroid(n_features=3, n_classes=3, max_abs_value=1000)]


def deploy(chain, twin):
    return chain.deploy_system(twin, "points")


@pytest.mark.parametrize("twin", SPARSE, ids=lambda m: type(m).__name__)
@pytest.mark.parametrize("data, error", [([], "EmptyData"), ([1, 2, 3, 4, 5], "TooManyFeatures"),
                                         ([10], "IndexOutOfRange"), ([-1], "IndexOutOfRange"),
                                         ([3, 1], "IndicesNotIncreasing")])
def test_sparse_models_refuse_bad_samples(chain, twin, data, error):
    system = deploy(chain, twin)
    for attempt in (lambda: system.add_data(data, 0, sender=chain.accounts[1]), lambda: system.predict(data)):
        with pytest.raises(ContractRevert) as info:
            attempt()
        assert info.value.error == error
    with pytest.raises(ValueError, match=error):
        twin.predict([data])


def test_repeated_indices_are_counts_for_naive_bayes_only(chain):
    nb, perceptron = (deploy(chain, m) for m in (SPARSE[1], SPARSE[0]))
    nb.add_data([2, 2, 5], 1, sender=chain.accounts[1])
    assert nb.twin().feature_count_[2].tolist() == [0, 2, 0]
    with pytest.raises(ContractRevert, match="IndicesNotIncreasing"):
        perceptron.add_data([2, 2, 5], 1, sender=chain.accounts[1])


@pytest.mark.parametrize("twin", DENSE, ids=lambda m: type(m).__name__)
@pytest.mark.parametrize("data, error", [([1, 2], "WrongLength"), ([1, 2, 3, 4], "WrongLength"),
                                         ([0, 1001, 0], "ValueOutOfRange"), ([-1001, 0, 0], "ValueOutOfRange")])
def test_dense_models_refuse_bad_samples(chain, twin, data, error):
    system = deploy(chain, twin)
    with pytest.raises(ContractRevert) as info:
        system.add_data(data, 0, sender=chain.accounts[1])
    assert info.value.error == error
    with pytest.raises(ValueError, match=error):
        twin.predict([data])


@pytest.mark.parametrize("twin, sample", [(m, [1]) for m in SPARSE] + [(m, [1, 2, 3]) for m in DENSE],
                         ids=lambda m: type(m).__name__ if isinstance(m, models.ChainModel) else "")
def test_unknown_labels_are_refused(chain, twin, sample):
    system = deploy(chain, twin)
    classes = getattr(twin, "n_classes", 2)
    with pytest.raises(ContractRevert) as info:
        system.add_data(sample, classes, sender=chain.accounts[1])
    assert (info.value.error, info.value.args_["numClasses"]) == ("UnknownLabel", classes)
    with pytest.raises(ValueError, match="UnknownLabel"):
        twin.partial_fit([sample], [classes])


@pytest.mark.parametrize("name, args, bad", [
    ("NaiveBayes", (1, 10, 5, 1000, [0], [0]), "numClasses"),
    ("NaiveBayes", (2, 10, 5, 0, [0, 0], [0, 0]), "smoothing"),
    ("NaiveBayes", (2, 10, 5, 1000, [0], [0, 0]), "class totals"),
    ("SparseNearestCentroid", (2, 10, 11, [0, 0], [0, 0]), "maxInputLength"),
    ("SparseNearestCentroid", (2, 10, 5, [0, 0], [0, 2**96]), "class totals"),
    ("DenseNearestCentroid", (2, 3, 0, [0, 0], [0, 0]), "maxAbsValue"),
    ("DensePerceptron", (3, 2**31, 1, 0, 0, 0), "maxAbsValue"),
    ("DensePerceptron", (0, 100, 1, 0, 0, 0), "numFeatures"),
])
def test_constructors_refuse_bad_parameters(chain, name, args, bad):
    with pytest.raises(ContractRevert) as info:
        chain.deploy(name, *args)
    assert (info.value.error, info.value.args_) == ("InvalidParameter", {"name": bad})


def test_fixed_point_encoder_feeds_dense_models():
    from dcai_lab import encoders

    enc = encoders.FixedPoint(max_abs=3_000_000).fit([[1.0, 10.0], [3.0, 30.0], [2.0, 20.0]])
    assert enc.transform([[2.0, 20.0]]).tolist() == [[0, 0]]
    assert enc.encode_one([3.0, 30.0]) == [1_224_745, 1_224_745]
    assert enc.transform([[100.0, -100.0]]).tolist() == [[3_000_000, -3_000_000]]
    unit = encoders.FixedPoint(norm="l2").fit([[3.0, 4.0]])
    assert unit.encode_one([3.0, 4.0]) == [600_000, 800_000]


def refused_before_any_transaction(chain, attempt, *phrases):
    from dcai_lab.errors import InvalidInput

    before = len(chain.gas)
    with pytest.raises(InvalidInput) as info:
        attempt()
    assert len(chain.gas) == before, "a refused input must not reach the chain"
    for phrase in phrases:
        assert phrase in str(info.value), (phrase, str(info.value))


@pytest.mark.parametrize("data, phrases", [
    ([1.9, 3.2], ["1.9", "sample[0]", "not an integer", "feature indices"]),
    ([1, float("nan")], ["nan", "sample[1]", "not a finite number"]),
    ([1, float("inf")], ["inf", "not a finite number"]),
    ([1, 2**63], [str(2**63), "outside"]),
    (["1", "2"], ["'1'", "not an integer"]),
])
def test_sparse_input_that_is_not_integers_is_refused_by_name(chain, data, phrases):
    system = deploy(chain, models.SparsePerceptron(n_features=10, max_input_length=4))
    refused_before_any_transaction(chain, lambda: system.add_data(data, 1, sender=chain.accounts[1]), *phrases)
    refused_before_any_transaction(chain, lambda: system.predict(data), *phrases)
    from dcai_lab.errors import InvalidInput

    with pytest.raises(InvalidInput):
        models.SparsePerceptron(n_features=10).fit([data], [1])


def test_dense_floats_are_refused_and_pointed_at_fixed_point(chain):
    system = deploy(chain, models.DensePerceptron(n_features=3, max_abs_value=1000))
    for data in ([0.7, -0.3, 0.9], [1.0, 0.0, 1.0]):  # even whole floats: 1.0 would mean 0.000001 on chain
        refused_before_any_transaction(chain, lambda: system.add_data(data, 1, sender=chain.accounts[1]),
                                       "not an integer", "encoders.FixedPoint")
    from dcai_lab.errors import InvalidInput

    with pytest.raises(InvalidInput, match="FixedPoint"):
        models.DensePerceptron(n_features=3).fit([[0.7, -0.3, 0.9]], [1])


@pytest.mark.parametrize("label, phrases", [(1.7, ["1.7", "not an integer"]), (-1, ["-1", "outside [0, "]),
                                            (2**64, [str(2**64), "outside"]), (float("nan"), ["nan"])])
def test_bad_labels_are_refused_by_name(chain, label, phrases):
    system = deploy(chain, models.SparsePerceptron(n_features=10, max_input_length=4))
    refused_before_any_transaction(chain, lambda: system.add_data([1, 2], label, sender=chain.accounts[1]),
                                   "label", *phrases)
    refused_before_any_transaction(chain, lambda: system.evaluate([[1, 2]], [label]), *phrases)
    from dcai_lab.errors import InvalidInput

    with pytest.raises(InvalidInput):
        models.SparsePerceptron(n_features=10).fit([[1]], [label])


def test_twin_only_systems_refuse_the_same_input():
    from dcai_lab import Chain, incentives
    from dcai_lab.errors import InvalidInput
    from dcai_lab.offchain import GasModel, OffchainSystem

    twin = models.SparsePerceptron(n_features=10, max_input_length=4).fit([[1], [2]], [1, 0])
    chain = Chain.twin_only()
    system = OffchainSystem(chain, twin, incentives.Points(), GasModel(deploy=0, deploy_transactions=1))
    for data, label in (([1.9, 3.2], 1), ([1, 2], 1.7), ([1, 2], -1)):
        with pytest.raises(InvalidInput):
            system.add_data(data, label, sender=chain.accounts[1])
    assert not system.records


def test_sparse_matrices_of_weights_are_refused_not_truncated():
    import scipy.sparse as sp
    from dcai_lab.errors import InvalidInput

    with pytest.raises(InvalidInput, match="0.25"):
        models.SparsePerceptron(n_features=3).fit(sp.csr_matrix([[0.25, 0, 1.0]]), [1])
    models.SparsePerceptron(n_features=3).fit(sp.csr_matrix([[1.0, 0, 1.0]]), [1])  # whole counts are fine
