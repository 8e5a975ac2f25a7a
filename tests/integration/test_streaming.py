"""Every dataset loads, encodes and streams into a deployed model; the stream keeps every record."""
import numpy as np
import pytest

from dcai_lab import Chain, datasets, encoders, models, stream
from dcai_lab.streaming import StreamError


def available(name):
    return datasets.has(name, "train")


def streamed(name, n_contributions, seed=0):
    task = datasets.task(name)
    train = datasets.load(name, "train", seed=seed)
    enc = encoders.for_task(task, train)
    X = enc.transform(train["text"] if task.kind == "text" else train)
    y = np.asarray(train["label"])
    keep = [i for i, x in enumerate(X) if len(x)]
    X, y = [X[i] for i in keep], y[keep]
    if task.n_classes == 2:
        twin = models.SparsePerceptron(n_features=enc.n_features, random_state=seed)
    else:
        twin = models.NaiveBayes(n_features=enc.n_features, n_classes=task.n_classes)
    twin.fit(X[:100], y[:100])
    chain = Chain()
    system = chain.deploy_system(twin, "deposit-refund-take", encoder=enc)
    result = stream(system, X[100:100 + n_contributions], y[100:100 + n_contributions], progress=False)
    assert len(result.records) == min(n_contributions, len(X) - 100)
    assert all(r.outcome == "added" for r in result.records)
    assert system.contributions() == result.contributions
    twin.partial_fit([list(c.data) for c in result.contributions], [c.label for c in result.contributions])
    assert system.twin().to_chain_params() == twin.to_chain_params()
    frame = result.to_pandas()
    assert (frame["gas_used"] > 21_000).all() and frame["block_time"].is_monotonic_increasing


@pytest.mark.parametrize("name", list(datasets.TASKS))
def test_every_dataset_streams_into_a_model(name):
    if not available(name):
        pytest.skip(f"{name} not in the data directory (CI sets it)")
    streamed(name, 30)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(datasets.TASKS))
def test_every_dataset_streams_a_few_hundred_contributions(name):
    if not available(name):
        pytest.skip(f"{name} not in the data directory (CI sets it)")
    streamed(name, 200)


@pytest.fixture
def wine_system():
    train = datasets.load("wine", "train")
    enc = encoders.for_task(datasets.task("wine"), train)
    twin = models.SparseNearestCentroid(n_features=enc.n_features, n_classes=3).fit(enc.transform(train), train["label"])
    return Chain().deploy_system(twin, "points", encoder=enc), train, enc


def test_rows_of_a_streaming_dataset_are_encoded_on_the_way(wine_system):
    system, _, enc = wine_system
    rows = datasets.load("wine", "test", streaming=True)
    result = stream(system, rows, encoder=enc, progress=False)
    test = datasets.load("wine", "test")
    assert [list(c.data) for c in result.contributions] == [list(x) for x in enc.transform(test) if len(x)]
    assert [c.label for c in result.contributions] == [y for x, y in zip(enc.transform(test), test["label"]) if len(x)]


def test_empty_samples_are_skipped_and_reverts_recorded(wine_system):
    system, _, _ = wine_system
    result = stream(system, [[0, 3], [], [2, 1], [4]], [0, 1, 2, 2], progress=False)
    assert [(r.outcome, r.reason) for r in result.records] == [
        ("added", ""), ("skipped", "empty sample"), ("reverted", "IndicesNotIncreasing"), ("added", "")]
    assert len(result.contributions) == 2


def test_interrupt_stops_cleanly_and_keeps_records(wine_system):
    system, _, _ = wine_system
    sender = system.chain.accounts[1]

    def policy(i, label):
        if i == 3:
            raise KeyboardInterrupt
        return sender, int(label)
    result = stream(system, [[0], [1], [2], [3], [4]], [0, 1, 2, 0, 1], policy=policy, progress=False)
    assert result.interrupted and [r.index for r in result.records] == [0, 1, 2]


def test_ctrl_c_while_a_transaction_is_mined_keeps_the_records_equal_to_the_chain(wine_system):
    import os
    import signal

    system, _, _ = wine_system
    real_add = system.add_data
    calls = []

    def add_then_ctrl_c(x, label, sender=None):
        contribution = real_add(x, label, sender=sender)  # mined: a KeyboardInterrupt here used to lose it
        calls.append(contribution)
        if len(calls) == 2:
            os.kill(os.getpid(), signal.SIGINT)
        return contribution

    system.add_data = add_then_ctrl_c
    mined_before = sum(r.name == "add_data" for r in system.chain.gas)
    result = stream(system, [[0], [1], [2], [3], [4]], [0, 1, 1, 0, 1], progress=False)
    mined = sum(r.name == "add_data" for r in system.chain.gas) - mined_before
    assert result.interrupted and len(calls) == 2 and mined == 2
    assert [r.index for r in result.records] == [0, 1] and result.contributions == calls


def test_unexpected_errors_carry_the_records_made(wine_system):
    system, _, _ = wine_system

    def policy(i, label):
        if i == 2:
            raise RuntimeError("contributor crashed")
        return system.chain.accounts[1], int(label)
    with pytest.raises(StreamError, match="contributor crashed") as info:
        stream(system, [[0], [1], [2]], [0, 1, 2], policy=policy, progress=False)
    assert len(info.value.result.records) == 2 and len(info.value.result.contributions) == 2


def test_rows_without_an_encoder_are_refused(wine_system):
    system, train, _ = wine_system
    with pytest.raises(StreamError, match="need an encoder"):
        stream(system, train, progress=False)


def test_the_trainer_records_its_encoder(wine_system):
    system, train, enc = wine_system
    assert system.encoder_matches(enc)
    assert system.encoder_matches(encoders.from_json(enc.to_json()))
    other = encoders.for_task(datasets.task("wine"), train.select(range(50)))
    assert not system.encoder_matches(other)
