import pytest

from dcai_lab import Chain, ContractRevert, models
from dcai_lab.errors import decode_revert


@pytest.fixture(params=["direct", "via_web3"])
def chain(request):
    """Both ways to the embedded chain: straight to py-evm (the default) and through web3.py's requests."""
    return Chain(via_web3=request.param == "via_web3")


def test_accounts_are_funded(chain):
    assert len(chain.accounts) == 10
    assert all(chain.balance(a) == 10**24 for a in chain.accounts)
    assert chain.fork == "prague"


def test_deploy_and_gas_ledger_records_every_transaction(chain):
    dh = chain.deploy("DataHandler")
    chain.transact(dh.functions.setTrainer(chain.accounts[1]), operation="bind")
    frame = chain.gas.to_pandas()
    assert list(frame["operation"]) == ["deploy:DataHandler", "bind"]
    assert (frame["gas_used"] > 21_000).all() and (frame["status"] == 1).all()
    assert frame["sender"].tolist() == [chain.accounts[0]] * 2


def test_failed_transaction_raises_with_reason_and_is_still_recorded(chain):
    dh = chain.deploy("DataHandler")
    with pytest.raises(ContractRevert) as info:
        chain.transact(dh.functions.add(b"\x01" * 32, 5), sender=chain.accounts[3], operation="add")
    assert info.value.error == "NotTrainer"
    assert info.value.args_ == {"caller": chain.accounts[3]}
    assert "only through the CollaborativeTrainer" in str(info.value)
    last = chain.gas.records[-1]
    assert (last.operation, last.status) == ("add", 0) and last.gas_used > 21_000


def test_reverting_call_raises_with_reason(chain):
    model = chain.deploy("SparsePerceptron", 10, 5, 1000, 0)
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
    with pytest.raises(ValueError, match="forward"):
        chain.time_travel(-5)


def test_snapshot_and_revert(chain):
    snap = chain.snapshot()
    dh = chain.deploy("DataHandler")
    assert chain.w3.eth.get_code(dh.address)
    chain.revert(snap)
    assert chain.w3.eth.get_code(dh.address) == b""


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
    from dcai_lab import experiments

    direct = experiments.run(PARITY, progress=False)
    monkeypatch.setattr(experiments, "_new_chain", lambda config: Chain(via_web3=True))
    web3_path = experiments.run(PARITY, progress=False)
    assert_same_run(direct, web3_path)


def test_direct_path_gives_the_web3_paths_reverts_and_gas():
    def script(chain):
        twin = models.SparsePerceptron(n_features=8, max_iter=1).fit([[0, 3], [1, 5]], [1, 0])
        system = chain.deploy_system(twin, "deposit-refund-take")
        c = system.add_data([2, 3], 1, sender=chain.accounts[1])
        with pytest.raises(ContractRevert, match="ClaimTooEarly") as early:
            system.refund(c)
        chain.time_travel(days=1)
        paid = system.refund(c), system.predict([2, 3]), system.deposit_required()
        return chain.gas.to_pandas(), early.value.args_, paid

    direct, web3_path = script(Chain()), script(Chain(via_web3=True))
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
        system = chain.deploy_system(twin, "deposit-refund-take")
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
        system = chain.deploy_system(twin, "deposit-refund-take")
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
