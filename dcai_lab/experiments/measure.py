"""Gas tables: what each operation costs a model on real samples of a dataset."""
from __future__ import annotations

import numpy as np

from .. import datasets, incentives, subsets
from ..chain import Chain
from ..encoded import encode
from ..models import registry
from ..results import gas_table


def measure_operations(dataset: str, model: str, samples: int = 20, seed: int = 0, gas_price_gwei: float = 4.0,
                       eth_usd: float = 373.0, incentive="deposit-refund-take", cost=None, fees=None):
    """Gas of deployment, adding, refunding and reporting for ``model`` on real samples of ``dataset``:
    the model is trained on up to 1000 samples and deployed under ``incentive`` (a name or a spec with
    refunds and reports: Deposit-Refund-Take by default, or Points); one contributor adds
    ``samples`` correctly labelled samples, another the same number with wrong labels; a day later every
    contribution the model agrees with is refunded and every other one reported. Every set of samples is a
    stratified random draw of ``seed``.

    ``cost`` (chains: ``"l1"``, ``"op"``, ``"arbitrum"``) adds what each operation costs on them under
    ``fees`` (:class:`dcai_lab.cost.Fees`, default the shipped snapshot): a column ``usd_<chain>_<scenario>``
    per chain and fee scenario, ``above_tx_cap`` (an L1 transaction above EIP-7825's 2**24 gas), and the
    fees' date and ether price."""
    task = datasets.task(dataset)
    entry = registry.entry(model)
    entry.check_task(task)
    train = datasets.load(dataset, "train", seed=seed)
    encoder = entry.default_encoder(task, train)
    X, y = encode(task, encoder, train)
    # stratified random draws (some splits are sorted by label): training, then two sets of contributions
    start = min(1000, len(y) - 2 * samples)
    initial = subsets.draw(y, start, [seed, 0])
    right = subsets.draw(y, samples, [seed, 1], exclude=initial)
    wrong = subsets.draw(y, samples, [seed, 2], exclude=np.concatenate([initial, right]))
    twin = entry.make(n_features=encoder.n_features, n_classes=task.n_classes, seed=seed).fit(
        *subsets.take(X, y, initial))
    chain = Chain()
    mechanism = incentives.resolve(incentive)
    if mechanism.settles_in_rounds:
        raise ValueError(f"{type(mechanism).__name__} settles in reward rounds, not by refunds and reports: "
                         "benchmarks/gas.py --market measures its phases")
    system = mechanism.deploy(chain, twin, encoder=encoder)
    honest, other = chain.accounts[1:3]
    made = []
    for i, j in zip(right, wrong):
        chain.time_travel(600)
        made.append(system.add_data(X[i], int(y[i]), sender=honest))
        chain.time_travel(600)
        made.append(system.add_data(X[j], (int(y[j]) + 1) % task.n_classes, sender=other))
    chain.time_travel(days=1)
    agrees = system.twin().predict([c.data for c in made]) == np.array([c.label for c in made])
    for c, ok in zip(made, agrees):
        if ok:
            system.refund(c)
    for c, ok in zip(made, agrees):
        if not ok and c.author != honest and system.num_valid(honest):
            system.report(c, sender=honest)
    table = gas_table(chain.gas.to_pandas(), gas_price_gwei, eth_usd)
    table.insert(0, "model", model)
    table.insert(0, "dataset", dataset)
    table["incentive"] = mechanism.contract_name
    table["fork"] = chain.fork
    table = table.reset_index()
    if cost:
        from ..cost import Fees, operation_costs

        fees = fees or Fees.snapshot()
        priced = operation_costs(chain.gas.to_pandas(sent=True), fees, chains=tuple(cost))
        wide = priced.pivot_table(index="operation", columns=["chain", "scenario"], values="usd", sort=False)
        wide.columns = [f"usd_{c}_{s}" for c, s in wide.columns]
        table = table.merge(wide, left_on="operation", right_index=True, how="left")
        table["above_tx_cap"] = table["operation"].map(priced.groupby("operation")["above_tx_cap"].any())
        table["fees_date"] = fees.date
        table["fees_eth_usd"] = fees.eth_usd
    return table
