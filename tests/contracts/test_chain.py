import ast
from pathlib import Path

import pytest

import dcai_lab
from dcai_lab import Chain, ContractRevert, models
from dcai_lab.errors import decode_revert, reverts
from dcai_lab.transports import NoChainError


@pytest.fixture(params=["direct", "via_web3"])
def chain(request):
    """Both ways to the embedded chain: straight to py-evm (the default) and through web3.py's requests."""
    return Chain(via_web3=request.param == "via_web3")


def test_accounts_are_funded(chain):
    assert len(chain.accounts) == 10
    assert all(chain.balance(a) == 10**24 for a in chain.accounts)
    assert chain.fork == "prague"
    assert chain.next_block_time == chain.now + 1


def test_backend_names_how_transactions_travel():
    assert (Chain().backend, Chain(via_web3=True).backend, Chain.twin_only().backend) == ("py-evm", "web3", "twin")


def test_deploy_and_gas_ledger_records_every_transaction(chain):
    dh = chain.deploy("DataHandler")  # its creator is its trainer
    chain.transact(dh.functions.add(b"\x01" * 32, 5), operation="record")
    frame = chain.gas.to_pandas()
    assert list(frame["operation"]) == ["deploy", "record"]
    assert list(frame["phase"]) == ["deploy", ""] and list(frame["name"]) == ["DataHandler", "record"]
    assert (frame["gas_used"] > 21_000).all() and (frame["status"] == 1).all()
    assert frame["sender"].tolist() == [chain.accounts[0]] * 2


def test_failed_transaction_raises_with_reason_and_is_still_recorded(chain):
    dh = chain.deploy("DataHandler")
    with pytest.raises(ContractRevert) as info:
        chain.transact(dh.functions.add(b"\x01" * 32, 5), sender=chain.accounts[3], operation="add")
    assert info.value.error == "NotTrainer"
    assert info.value.args_ == {"caller": chain.accounts[3]}
    assert info.value.gas_used == chain.gas.records[-1].gas_used
    assert "only through the CollaborativeTrainer" in str(info.value)
    last = chain.gas.records[-1]
    assert (last.operation, last.status) == ("add", 0) and last.gas_used > 21_000


def test_a_deploy_may_be_named_and_phased(chain):
    chain.deploy("DataHandler", operation="handler", phase="market")
    chain.deploy("DataHandler", phase="")
    assert [(r.phase, r.name) for r in chain.gas] == [("market", "handler"), ("", "DataHandler")]
    assert [r.label for r in chain.gas] == ["market: handler", "DataHandler"]


def test_reverting_call_raises_with_reason(chain):
    model = chain.deploy("SparsePerceptron", 10, 5, 1000, 0, 0, 0)
    with pytest.raises(ContractRevert) as info:
        chain.call(model.functions.predict([3, 2]))
    assert info.value.error == "IndicesNotIncreasing" and info.value.args_ == {"position": 1}


def test_deploying_an_interface_is_refused(chain):
    with pytest.raises(ValueError, match="interface"):
        chain.deploy("IClassifier")


def test_time_travel_sets_the_next_transaction_time(chain):
    start = chain.now
    target = chain.time_travel(days=1, hours=2)
    assert target == start + 26 * 3600
    receipt = chain.transact(chain.w3.eth.contract(abi=[], bytecode="0x00").constructor())
    assert chain.w3.eth.get_block(receipt["blockNumber"])["timestamp"] == target
    for asked in (-5, 0, 1.5, 0.2):
        with pytest.raises(ValueError, match=rf"whole seconds, at least 1.*asked for {asked:g} s with the clock at "
                                             rf"{chain.now}"):
            chain.time_travel(asked)
    with pytest.raises(ValueError, match="asked for 0.5 s"):
        Chain.twin_only().time_travel(minutes=0.5 / 60)


@pytest.mark.parametrize("backend", ["py-evm", "anvil", "twin"])
def test_short_time_travel_moves_the_next_transaction_by_exactly_what_was_asked(backend):
    chain = Chain.for_backend(backend)
    if backend == "anvil":
        chain.transact(chain.w3.eth.contract(abi=[], bytecode="0x00").constructor())  # a node's genesis is old
    empty = None if backend == "twin" else chain.w3.eth.contract(abi=[], bytecode="0x00")
    for seconds in (1, 2, 1, 3, 1):  # from a fresh chain, where the first block is the next one
        before = chain.now
        assert chain.time_travel(seconds) == before + seconds == chain.next_block_time
        if empty is None:
            record = chain.record_estimate("op", chain.accounts[0], 21_000)
        else:
            chain.transact(empty.constructor())
            record = chain.gas.records[-1]
        assert record.block_time == before + seconds and chain.now == before + seconds
    chain.close()


def test_snapshot_and_revert(chain):
    snap = chain.snapshot()
    dh = chain.deploy("DataHandler")
    assert chain.w3.eth.get_code(dh.address)
    chain.revert(snap)
    assert chain.w3.eth.get_code(dh.address) == b""


def test_anchor_restores_state_clock_and_gas_ledger(chain):
    dh = chain.deploy("DataHandler")
    key = b"\x01" * 32

    def recorded():
        return chain.call(dh.functions.records(key))[3]  # the record's `exists` flag

    before = (chain.now, len(chain.gas), chain.balance(chain.accounts[0]))
    with chain.anchor():
        chain.time_travel(days=3)
        chain.transact(dh.functions.add(key, 5), operation="record")
        assert recorded() and len(chain.gas) == 2
    assert (chain.now, len(chain.gas), chain.balance(chain.accounts[0])) == before
    assert not recorded()
    with pytest.raises(ContractRevert), chain.anchor():  # undone on the way out of an error too
        chain.transact(dh.functions.add(key, 5), operation="record")
        chain.transact(dh.functions.add(b"\x02" * 32, 5), sender=chain.accounts[3], operation="add")
    assert len(chain.gas) == 1 and not recorded()


def test_calls_return_what_web3_returns(chain):
    """Checksummed addresses, lists for arrays, one value or a list of them: as web3's call() gives."""
    twin = models.SparsePerceptron(n_features=8, max_iter=1).fit([[0, 3], [1, 5]], [1, 0])
    system = dcai_lab.deploy_system(chain, twin, "deposit-refund-take")
    c = system.add_data([2, 3], 1, sender=chain.accounts[1])
    calls = [system.data_handler.functions.records(c.key), system.trainer.functions.predict([2, 3])]
    calls += [getattr(system.trainer.functions, item["name"])() for item in system.trainer.abi
              if item["type"] == "function" and not item["inputs"] and item["stateMutability"] == "view"]
    for fn in calls:
        ours, web3s = chain.call(fn), fn.call()
        assert (ours, type(ours)) == (web3s, type(web3s)), fn.fn_name


def test_reverts_passes_on_the_named_error_and_says_what_happened_otherwise(chain):
    dh = chain.deploy("DataHandler")
    add = dh.functions.add(b"\x01" * 32, 5)
    with reverts("NotTrainer", caller=chain.accounts[3]) as caught:
        chain.transact(add, sender=chain.accounts[3])
    assert caught.value.error == "NotTrainer"
    with dcai_lab.reverts("NotTrainer"):  # exported at the top, arguments optional
        chain.transact(add, sender=chain.accounts[3])
    with pytest.raises(AssertionError, match="nothing reverted"):
        with reverts("NotTrainer"):
            chain.call(dh.functions.trainer())
    with pytest.raises(AssertionError, match="expected a revert with ClaimTooEarly.*but got NotTrainer"):
        with reverts("ClaimTooEarly"):
            chain.transact(add, sender=chain.accounts[3])
    with pytest.raises(AssertionError, match=f"NotTrainer carried caller={chain.accounts[3]}"):
        with reverts("NotTrainer", caller=chain.accounts[4]):
            chain.transact(add, sender=chain.accounts[3])
    with pytest.raises(AssertionError, match="carried other=<missing>"):
        with reverts("NotTrainer", other=1):
            chain.transact(add, sender=chain.accounts[3])
    with pytest.raises(KeyError):  # not a revert at all: passes through, as with pytest.raises
        with reverts("NotTrainer"):
            raise KeyError("x")


def test_twin_only_chain_keeps_the_embedded_chains_clock():
    """Chain.twin_only(): one block per recorded operation, time travel as on a chain (OffchainChain's clock)."""
    twin = Chain.twin_only(num_accounts=3)
    assert (twin.backend, twin.fork, twin.now, twin.next_block_time) == ("twin", None, 1_700_000_000, 1_700_000_001)
    assert twin.accounts == ["0x" + "0" * 39 + "1", "0x" + "0" * 39 + "2", "0x" + "0" * 39 + "3"]
    times = [twin.record_estimate("system", twin.accounts[0], 5_000_000, phase="deploy").block_time]
    assert twin.time_travel(100) == 1_700_000_101 and twin.now == 1_700_000_100
    assert twin.next_block_time == 1_700_000_101
    times += [twin.record_estimate("add_data", twin.accounts[1], 90_000).block_time for _ in range(2)]
    twin.time_travel(1)  # the next block was going to be there anyway
    times.append(twin.record_estimate("report", twin.accounts[2], 40_000).block_time)
    twin.time_travel(3)
    times.append(twin.record_estimate("refund", twin.accounts[1], 40_000).block_time)
    assert times == [1_700_000_001, 1_700_000_101, 1_700_000_102, 1_700_000_103, 1_700_000_106]
    frame = twin.gas.to_pandas()
    assert frame["operation"].tolist() == ["deploy", "add_data", "add_data", "report", "refund"]
    assert frame["block_number"].tolist() == [1, 2, 3, 4, 5] and (frame["status"] == 1).all()
    assert frame["gas_used"].sum() == twin.gas.total() == 5_260_000

    chain = Chain()  # the same steps on the embedded chain take the same times
    start, empty = chain.now, chain.w3.eth.contract(abi=[], bytecode="0x00")
    chain.transact(empty.constructor())
    chain.time_travel(100)
    chain.transact(empty.constructor())
    chain.transact(empty.constructor())
    chain.time_travel(1)
    chain.transact(empty.constructor())
    chain.time_travel(3)
    chain.transact(empty.constructor())
    assert [r.block_time - start for r in chain.gas] == [t - 1_700_000_000 for t in times]

    with twin.anchor():
        twin.time_travel(days=1)
        twin.record_estimate("refund", twin.accounts[1], 40_000)
    assert (twin.now, len(twin.gas)) == (1_700_000_106, 5)


def test_twin_only_chain_refuses_contracts_and_real_chains_refuse_estimates():
    twin = Chain.twin_only()
    with pytest.raises(NoChainError, match="no EVM"):
        twin.deploy("DataHandler")
    with pytest.raises(NoChainError, match="no EVM"):
        twin.balance(twin.accounts[0])
    with pytest.raises(TypeError, match="twin-only"):
        Chain().record_estimate("add_data", "0x" + "0" * 40, 1)


def test_no_module_reaches_into_web3_internals():
    """web3's underscored modules change without notice between releases: the lab uses its public API."""
    offenders = []
    for path in Path(dcai_lab.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [f"{node.module}.{a.name}" for a in node.names]
            else:
                continue
            offenders += [f"{path.name}: {n}" for n in names
                          if n.split(".")[0] == "web3" and any(part.startswith("_") for part in n.split("."))]
    assert offenders == []


def test_unreachable_node_is_a_clear_error():
    with pytest.raises(ConnectionError, match="no JSON-RPC node answers"):
        Chain("http://127.0.0.1:9")


@pytest.mark.parametrize("data, error", [
    ("0x08c379a0" + "00" * 31 + "20" + "00" * 31 + "02" + "6869".ljust(64, "0"), ("Error", {"reason": "hi"})),
    ("0x4e487b71" + "00" * 31 + "11", ("Panic", {"code": "0x11", "meaning": "arithmetic overflow or underflow"})),
    ("0x", ("Revert", {})),
    ("0xdeadbeef", ("UnknownError", {"data": "0xdeadbeef"})),
])
def test_decode_revert_standard_forms(data, error):
    revert = decode_revert("op", data)
    assert (revert.error, revert.args_) == error


PARITY = {"name": "parity", "dataset": "fitness_synthetic", "duration_days": 0.2, "eval_interval_hours": 2.0,
          "test_limit": 200, "seed": 5,
          "contributors": [{"kind": "honest", "count": 2}, {"kind": "adversarial", "count": 1, "interval": 1200}]}


def assert_same_run(a, b):
    assert a.manifest["fork"] == b.manifest["fork"] == "prague"
    assert a.accuracy["accuracy"].tolist() == b.accuracy["accuracy"].tolist()
    assert a.balances["balance_percent"].tolist() == b.balances["balance_percent"].tolist()
    assert a.contributions.drop(columns="gas_used").equals(b.contributions.drop(columns="gas_used"))
    assert a.gas[["operation", "gas_used", "status", "block_time"]].equals(b.gas[["operation", "gas_used", "status",
                                                                                  "block_time"]])


def test_direct_path_gives_the_web3_paths_results_and_gas(monkeypatch):
    """The embedded chain's direct path to py-evm against web3.py's: same run, transaction by transaction."""
    import importlib

    from dcai_lab import experiments

    direct = experiments.run(PARITY, progress=False)
    runner = importlib.import_module("dcai_lab.experiments.run")  # the module, not the function it exports
    monkeypatch.setattr(runner, "_new_chain", lambda config: Chain(via_web3=True))
    web3_path = experiments.run(PARITY, progress=False)
    assert_same_run(direct, web3_path)


def _without_block_hashes(receipt) -> dict:
    """A receipt's content: block hashes differ between two runs even on the same path."""
    logs = [{k: v for k, v in log.items() if k != "blockHash"} for log in receipt["logs"]]
    return {**{k: v for k, v in receipt.items() if k != "blockHash"}, "logs": logs}


@pytest.mark.parametrize("make", [Chain, Chain.anvil], ids=["py-evm", "anvil"])
def test_direct_path_gives_the_web3_paths_receipts_reverts_and_gas(make):
    def script(chain):
        try:
            twin = models.SparsePerceptron(n_features=8, max_iter=1).fit([[0, 3], [1, 5]], [1, 0])
            system = dcai_lab.deploy_system(chain, twin, "deposit-refund-take")
            c = system.add_data([2, 3], 1, sender=chain.accounts[1])
            with pytest.raises(ContractRevert, match="ClaimTooEarly") as early:
                system.refund(c)
            chain.time_travel(days=1)
            receipt = chain.transact(system.trainer.functions.refund(list(c.data), c.label, c.added_time),
                                     sender=c.author)
            paid = system.trainer.events.Refund().process_receipt(receipt)[0]["args"]["amount"]
            answers = paid, system.predict([2, 3]), system.deposit_required(), chain.now
            return chain.gas.to_pandas(), early.value.args_, answers, _without_block_hashes(receipt)
        finally:
            chain.close()

    direct, web3_path = script(make()), script(make(via_web3=True))
    assert direct[0].equals(web3_path[0]) and direct[1:] == web3_path[1:]
    assert direct[0]["status"].tolist().count(0) == 1


def test_anvil_backend_gives_the_embedded_chains_results_and_gas():
    """Same seeded experiment on py-evm and on a local anvil node: same accuracy curve, balances and gas."""
    from dcai_lab import experiments

    embedded = experiments.run(PARITY, progress=False)
    node = experiments.run({**PARITY, "backend": "anvil"}, progress=False)
    assert_same_run(embedded, node)


def test_anvil_time_travel_snapshots_and_readable_reverts():
    chain = Chain.anvil()
    try:
        twin = models.SparsePerceptron(n_features=4, max_iter=1).fit([[0], [1]], [1, 0])
        system = dcai_lab.deploy_system(chain, twin, "deposit-refund-take")
        c = system.add_data([2], 1, sender=chain.accounts[1])
        with pytest.raises(ContractRevert, match="ClaimTooEarly"):
            system.refund(c)
        snap = chain.snapshot()
        before = chain.now
        target = chain.time_travel(days=1)
        assert target == before + 86_400 and chain.now == target - 1  # as on the embedded chain
        assert system.refund(c) == c.deposit
        chain.revert(snap)
        with pytest.raises(ContractRevert, match="ClaimTooEarly"):
            system.refund(c)
        before, recorded = chain.now, len(chain.gas)
        assert (chain.backend, chain.fork) == ("anvil", "prague")
        with chain.anchor():
            chain.time_travel(days=1)
            assert system.refund(c) == c.deposit
        assert chain.now == before and len(chain.gas) == recorded
        with pytest.raises(ContractRevert, match="ClaimTooEarly"):
            system.refund(c)
    finally:
        chain.close()
    assert chain.node.process.poll() is not None  # the node is stopped


def test_node_with_keys_from_the_environment_signs_locally(monkeypatch):
    """A node without unlocked accounts (a testnet): funded keys from DCAI_LAB_PRIVATE_KEYS sign here."""
    from eth_account import Account

    from dcai_lab.anvil import AnvilNode
    from dcai_lab.errors import NodeError

    node = AnvilNode()
    try:
        keys = [Account.create() for _ in range(2)]
        for key in keys:  # fund them as a faucet would
            Chain(node.url).w3.provider.make_request("anvil_setBalance", [key.address, hex(10**20)])
        monkeypatch.setenv("DCAI_LAB_PRIVATE_KEYS", ",".join(key.key.hex() for key in keys))
        chain = Chain(node.url)
        assert chain.accounts == [key.address for key in keys]
        twin = models.SparsePerceptron(n_features=4, max_iter=1).fit([[0], [1]], [1, 0])
        system = dcai_lab.deploy_system(chain, twin, "deposit-refund-take")
        c = system.add_data([2], 1, sender=chain.accounts[1])
        with pytest.raises(ContractRevert, match="ClaimTooEarly"):
            system.refund(c)
        chain.time_travel(days=1)
        assert system.refund(c) == c.deposit
        assert chain.w3.eth.get_transaction_count(chain.accounts[1]) == 3  # nonces counted here, revert included
        with pytest.raises(NodeError, match="the node refused"):  # more than the account holds
            system.add_data([2], 1, sender=chain.accounts[1], value=10**21)
        monkeypatch.setenv("DCAI_LAB_PRIVATE_KEYS", "0x1234")
        with pytest.raises(ValueError, match="not a 32-byte hex key"):
            Chain(node.url)
    finally:
        node.stop()


def test_experiment_on_any_development_node(monkeypatch):
    """backend = "rpc": the node at $DCAI_LAB_RPC_URL (here an anvil started by hand, with its own accounts)."""
    from dcai_lab import experiments
    from dcai_lab.anvil import AnvilNode

    config = {**PARITY, "backend": "rpc", "duration_days": 0.05}
    monkeypatch.delenv("DCAI_LAB_RPC_URL", raising=False)
    with pytest.raises(ValueError, match="DCAI_LAB_RPC_URL, which is not set"):
        experiments.run(config, progress=False)
    node = AnvilNode()
    try:
        monkeypatch.setenv("DCAI_LAB_RPC_URL", node.url)
        result = experiments.run(config, progress=False)
    finally:
        node.stop()
    assert result.manifest["fork"] == "node" and result.manifest["backend"] == "rpc"
    assert (result.contributions["outcome"] == "added").sum() > 5 and (result.gas["status"] == 1).all()
    assert len(result.accuracy) >= 2


# -- the fast engine ------------------------------------------------------------------------------
@pytest.mark.slow
def test_edr_backend_gives_the_embedded_chains_results_gas_and_balances():
    """Same seeded experiments on py-evm and on the edr engine. Deposit-Refund-Take (adds, reverts, refunds,
    reports): the same accuracy, balances, gas and block times, transaction by transaction. The prediction
    market: the same up to the reveal of its sample piece, which mixes in a block hash, and block hashes
    differ between engines (their headers do), so each engine then scores its own draw."""
    from dcai_lab import experiments

    embedded, fast = experiments.run(PARITY, progress=False), experiments.run({**PARITY, "backend": "edr"}, progress=False)
    assert_same_run(embedded, fast)
    # peak memory of this process, and of the engine's own process where it has one
    assert embedded.manifest["peak_memory_mb"]["python"] > 50 and embedded.manifest["peak_memory_mb"]["engine"] is None
    assert fast.manifest["peak_memory_mb"]["engine"] > 20
    market = {**PARITY, "name": "market", "incentive": "prediction-market", "duration_days": 1.0,
              "incentive_params": {"test_size": 40, "pieces": 4, "min_duration": 3600}}
    embedded, fast = experiments.run(market, progress=False), experiments.run({**market, "backend": "edr"}, progress=False)
    columns = ["operation", "gas_used", "status", "block_time"]
    setup = [(embedded.gas, fast.gas)[i].query("operation in ['deploy', 'add_data']")[columns] for i in (0, 1)]
    assert len(setup[0]) > 10 and setup[0].reset_index(drop=True).equals(setup[1].reset_index(drop=True))
    assert embedded.contributions.drop(columns="gas_used").equals(fast.contributions.drop(columns="gas_used"))
    assert embedded.manifest["fork"] == fast.manifest["fork"] == "prague"


def test_edr_chain_matches_the_embedded_chain_to_the_wei():
    """Deploy, a refused add, adds, time travel, a refund, a report: the same gas, statuses, block times and
    final balances of every account on both chains; snapshots revert on both."""
    def script(chain):
        try:
            from helpers import SAMPLE, positive_on_sample

            system = dcai_lab.deploy_system(chain, positive_on_sample(), "deposit-refund-take")
            good = system.add_data(SAMPLE, 1, sender=chain.accounts[1])
            with pytest.raises(ContractRevert, match="DepositTooSmall"):
                system.add_data(SAMPLE, 1, sender=chain.accounts[2], value=1)
            bad = system.add_data(SAMPLE, 0, sender=chain.accounts[3])
            chain.time_travel(days=1)
            system.refund(good)
            with chain.anchor():
                system.report(bad, sender=chain.accounts[1])
            system.report(bad, sender=chain.accounts[1])
            return (chain.gas.to_pandas()[["operation", "gas_used", "status", "block_time", "block_number"]],
                    [chain.balance(a) for a in chain.accounts])
        finally:
            chain.close()

    embedded, fast = script(Chain()), script(Chain.edr())
    assert embedded[0].equals(fast[0]) and embedded[1] == fast[1]


def test_edr_time_travel_travels_with_the_next_request():
    """Time travel's empty block is mined in the next request's round trip, first; a refused deferred request
    is reported by name when it is sent, not lost."""
    chain = Chain.edr()
    try:
        start = chain.now
        chain.time_travel(hours=1)
        assert chain.transport.node._deferred  # not sent yet
        block = chain.w3.eth.get_block("latest")  # any request carries it
        assert block["timestamp"] == start + 3599 and chain.now == start + 3599
        chain.transport.node.defer("evm_noSuchMethod", [])
        with pytest.raises(RuntimeError, match="refused evm_noSuchMethod"):
            chain.w3.eth.get_block("latest")
    finally:
        chain.close()


def test_edr_without_node_says_what_to_install(monkeypatch):
    from dcai_lab import experiments

    monkeypatch.setenv("DCAI_LAB_NODE", "no-such-node-binary")
    with pytest.raises(FileNotFoundError, match="needs Node.*make setup"):
        Chain.edr()
    with pytest.raises(ValueError, match="needs Node.*make setup"):  # a config is refused before any work
        experiments.ExperimentConfig.from_dict({**PARITY, "backend": "edr"})


def test_edr_on_osaka_keeps_every_transaction_under_its_gas_cap():
    """Osaka caps a transaction at 2**24 gas (EIP-7825): a model whose weights take more than that to load
    is deployed in chunks under the cap, and its market's set-up and rewards stay under it too."""
    import numpy as np

    from dcai_lab import TX_GAS_CAP

    chain = Chain.edr(hardfork="osaka")
    try:
        assert chain.tx_gas_limit == TX_GAS_CAP < chain.block_gas_limit and chain.fork == "osaka"
        twin = models.SparsePerceptron(n_features=8000).set_state(np.arange(8000) % 97 - 48, 0)
        system = dcai_lab.deploy_system(chain, twin, "deposit-refund-take")
        assert np.array_equal(system.twin().coef_, twin.coef_)
        assert max(r.gas_used for r in chain.gas) <= TX_GAS_CAP
        assert sum(r.name == "weights" for r in chain.gas) > 1
    finally:
        chain.close()


def test_the_ledger_keeps_what_each_transaction_sent(chain):
    """Cost needs each transaction's calldata: the ledger gives back exactly what was sent (it keeps it deflated)."""
    twin = models.SparsePerceptron(n_features=300, max_iter=1).fit([[0, 3], [1, 5]], [1, 0])
    system = dcai_lab.deploy_system(chain, twin, "deposit-refund-take")
    sample = list(range(0, 300, 2))
    system.add_data(sample, 1, sender=chain.accounts[1])
    record = chain.gas.records[-1]
    assert record.data == "0x" + system.trainer.functions.addData(sample, 1)._encode_transaction_data()[2:]
    assert len(record.packed) < len(record.data) // 8
    frame = chain.gas.to_pandas(sent=True)
    assert frame["data"].iloc[-1] == record.data and not frame["creation"].iloc[-1]
    assert frame["creation"].iloc[0] and frame["data"].iloc[0].startswith("0x")
    assert "data" not in chain.gas.to_pandas().columns
