"""The main job: a sparse perceptron under Deposit-Refund-Take, trained by simulated contributors.

IMDB from the data directory when present, otherwise scikit-learn's bundled breast-cancer data.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from . import datasets, encoders, incentives, models
from .chain import Chain
from .errors import ContractRevert
from .streaming import stream


@dataclass
class DemoData:
    name: str
    X_train: list
    y_train: np.ndarray
    X_test: list
    y_test: np.ndarray
    encoder: object
    description: str


@dataclass
class DemoResult:
    data: DemoData
    chain: Chain
    system: object
    initial_accuracy: float
    final_accuracy: float
    onchain_checked: int
    contributions: int
    refunds: int
    reports: int
    seconds_streaming: float
    balances: dict = field(default_factory=dict)  # name -> net wei (payouts - deposits)

    def summary(self) -> str:
        d, chain = self.data, self.chain
        adds = [r for r in chain.gas if r.operation == "add_data"]
        lines = [
            f"dataset      {d.description}",
            f"model        SparsePerceptron ({d.encoder.n_features} features) under DepositRefundTake, "
            f"embedded py-evm chain, fork {chain.fork}",
            f"accuracy     {self.initial_accuracy:.4f} -> {self.final_accuracy:.4f} on {len(d.y_test):,} test samples "
            f"(on-chain evaluate agrees with the twin on {self.onchain_checked})",
            f"activity     {self.contributions} contributions, {self.refunds} refunds, {self.reports} reports",
            f"speed        {len(adds)} add_data transactions in {self.seconds_streaming:.1f} s "
            f"({len(adds) / self.seconds_streaming:.1f} tx/s)",
            "balances     net ether per contributor (payouts - deposits; gas is counted below):",
        ]
        lines += [f"               {name:<12} {wei / 1e18:+.6f}" for name, wei in self.balances.items()]
        lines.append("gas per operation:")
        lines += ["  " + row for row in self.chain.gas.summary().to_string().splitlines()]
        return "\n".join(lines)


def load_demo_data(n_test: int, seed: int) -> DemoData:
    name = "imdb" if datasets.has("imdb", "train") and datasets.has("imdb", "test") else "breast_cancer"
    task = datasets.task(name)
    train, test = datasets.load(name, "train", seed=seed), datasets.load(name, "test", seed=seed)
    encoder = encoders.for_task(task, train)
    rng = np.random.default_rng(seed)
    train = train.select(rng.permutation(len(train))[:5000])
    test = test.select(rng.permutation(len(test))[:n_test])
    if task.kind == "text":
        X_train, X_test = encoder.transform(train["text"]), encoder.transform(test["text"])
        description = (f"IMDB reviews from {datasets.data_dir()}, top-1000-word vocabulary fitted on all "
                       "25,000 training reviews")
    else:
        X_train, X_test = encoder.transform(train), encoder.transform(test)
        description = "scikit-learn breast cancer (IMDB not found in the data directory), features above median"
    keep_train = [i for i, x in enumerate(X_train) if len(x)]  # the contracts refuse empty samples
    keep_test = [i for i, x in enumerate(X_test) if len(x)]
    return DemoData(name, [X_train[i] for i in keep_train], np.asarray(train["label"])[keep_train],
                    [X_test[i] for i in keep_test], np.asarray(test["label"])[keep_test], encoder, description)


def run_demo(n_initial: int = 1000, n_contributions: int = 200, n_test: int = 5000, adversary_share: float = 0.25,
             seed: int = 0, progress: bool = True, data: DemoData | None = None) -> DemoResult:
    """Deploy, stream contributions (honest and label-flipping), then refund and report."""
    data = data or load_demo_data(n_test, seed)
    n_initial = min(n_initial, len(data.y_train) // 2)
    n_contributions = min(n_contributions, len(data.y_train) - n_initial)
    rng = np.random.default_rng(seed)

    twin = models.SparsePerceptron(n_features=data.encoder.n_features, random_state=seed)
    twin.fit(data.X_train[:n_initial], data.y_train[:n_initial])
    initial_accuracy = twin.score(data.X_test, data.y_test)

    chain = Chain()
    system = incentives.DepositRefundTake().deploy(chain, twin, encoder=data.encoder, name=f"demo {data.name}")
    honest = {f"honest-{i + 1}": a for i, a in enumerate(chain.accounts[1:4])}
    adversary = {"adversary": chain.accounts[4]}
    names = {a: n for n, a in {**honest, **adversary}.items()}
    net = dict.fromkeys(names.values(), 0)

    def policy(i, label):
        if rng.random() < adversary_share:
            return adversary["adversary"], 1 - int(label)
        return list(honest.values())[i % len(honest)], int(label)

    start = time.perf_counter()
    window = slice(n_initial, n_initial + n_contributions)
    streamed = stream(system, data.X_train[window], data.y_train[window], policy=policy, progress=progress)
    seconds = time.perf_counter() - start
    sent = streamed.contributions
    for c in sent:
        net[names[c.author]] -= c.deposit

    chain.time_travel(days=1)
    model_now = system.twin()
    agrees = model_now.predict([c.data for c in sent]) == np.array([c.label for c in sent])
    refunds = reports = 0
    for c, ok in zip(sent, agrees):
        if ok:
            net[names[c.author]] += system.refund(c)
            refunds += 1
    for c, ok in zip(sent, agrees):
        if ok:
            continue
        for reporter in honest.values():
            if reporter == c.author:
                continue
            try:
                net[names[reporter]] += system.report(c, sender=reporter)
                reports += 1
                break
            except ContractRevert as err:  # e.g. no validated contribution yet: try the next reporter
                if err.error not in ("NoValidContributions", "AlreadyClaimed"):
                    raise

    final = system.twin()
    final_accuracy = final.score(data.X_test, data.y_test)
    checked = min(100, len(data.y_test))
    onchain = system.evaluate(data.X_test[:checked], data.y_test[:checked])
    twin_correct = int((final.predict(data.X_test[:checked]) == data.y_test[:checked]).sum())
    if onchain != twin_correct:
        raise AssertionError(f"contract and twin disagree: {onchain} vs {twin_correct} correct of {checked}")
    return DemoResult(data, chain, system, initial_accuracy, final_accuracy, checked, len(sent), refunds, reports,
                      seconds, net)
