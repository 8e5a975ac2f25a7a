"""The data directory's default outside a checkout, and a missing dataset refused at once when the hub
cannot be reached (without Hugging Face's offline switches), with no resolver noise."""
import socket
import sys
import threading
from pathlib import Path

import platformdirs
import pytest

from dcai_lab import datasets

PROXIES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy")


@pytest.fixture
def online(monkeypatch, tmp_path):
    """Hugging Face's offline switches off, an empty data directory, no proxy, a fresh reachability cache."""
    for var in (*datasets.settings.HF_OFFLINE, datasets.settings.HF_ENDPOINT, *PROXIES):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv(datasets.ENV_VAR, str(tmp_path))
    datasets.reachable.cache_clear()
    yield tmp_path
    datasets.reachable.cache_clear()


def test_an_installed_copy_defaults_to_a_per_user_folder(monkeypatch, tmp_path):
    monkeypatch.delenv(datasets.ENV_VAR, raising=False)
    monkeypatch.setattr(datasets, "REPO_DATA", tmp_path / "site-packages" / "data")  # no data/README.md: not a checkout
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    expected = Path(platformdirs.user_data_dir("dcai-lab", appauthor=False))
    assert datasets.data_dir() == expected
    if sys.platform.startswith("linux"):
        assert expected == tmp_path / "share" / "dcai-lab"
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(datasets.DatasetNotFound) as info:
        datasets.load("imdb", "test")
    message = str(info.value)
    assert str(expected / "imdb" / "test.parquet") in message and "per-user folder of an installed copy" in message
    assert f"export {datasets.ENV_VAR}=" in message


def test_a_checkout_keeps_its_data_folder(monkeypatch):
    monkeypatch.delenv(datasets.ENV_VAR, raising=False)
    assert (datasets.REPO_DATA / "README.md").is_file() and datasets.data_dir() == datasets.REPO_DATA


def test_an_unreachable_hub_refuses_at_once_without_trying_to_load(online, monkeypatch, capfd):
    monkeypatch.setattr(datasets, "_hub_reachable", lambda: False)

    def load(*args):
        raise AssertionError("the hub was asked although it cannot be reached")
    monkeypatch.setattr(datasets, "_load_from_hub", load)
    with pytest.raises(datasets.DatasetNotFound) as info:
        datasets.load("imdb", "test")
    message = str(info.value)
    assert str(online / "imdb" / "test.parquet") in message and f"{online} (from ${datasets.ENV_VAR})" in message
    assert "huggingface.co:443) cannot be reached" in message and "stanfordnlp/imdb" in message
    assert info.value.__cause__ is None and capfd.readouterr().err == ""


def test_a_reachable_hub_is_loaded_from(online, monkeypatch, tmp_path):
    """The hub path itself, on a local Parquet file in place of the download."""
    import datasets as hf

    import pandas as pd

    pd.DataFrame({"sms": [f"message {i}" for i in range(50)], "label": [i % 2 for i in range(50)]}).to_parquet(
        tmp_path / "sms.parquet")
    monkeypatch.setattr(datasets, "_hub_reachable", lambda: True)
    asked, real = [], hf.load_dataset

    def load_dataset(name, split, streaming):
        asked.append((name, split, streaming))
        return real("parquet", data_files=str(tmp_path / "sms.parquet"), split="train")
    monkeypatch.setattr(hf, "load_dataset", load_dataset)
    ds = datasets.load("sms_spam", "train")  # sms_spam has one split: the hold-out comes from the hub's copy
    assert asked == [("ucirvine/sms_spam", "train", False)] and ds.num_rows == 40  # 80% of 50
    assert all(row["text"].startswith("message") for row in ds)


def test_the_probe_is_asked_once_per_process(online, monkeypatch):
    calls = []

    def connect(address, timeout):
        calls.append(address)
        raise OSError("no route")
    monkeypatch.setattr(socket, "create_connection", connect)
    assert not datasets._hub_reachable() and not datasets._hub_reachable()
    assert calls == [("huggingface.co", 443)]


def test_the_probe_tells_a_listening_port_from_a_closed_one():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        assert datasets.reachable("127.0.0.1", port, 2.0)
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]  # bound, not listening: refused
        assert not datasets.reachable("127.0.0.1", port, 2.0)


def test_the_probe_gives_up_after_its_timeout_even_when_resolving_hangs(monkeypatch):
    release = threading.Event()

    def hang(address, timeout):  # as a resolver that does not answer until released
        release.wait(60)
        raise OSError("timed out")
    monkeypatch.setattr(socket, "create_connection", hang)
    try:
        assert not datasets.reachable("hangs.example", 443, 0.3)
        assert not release.is_set()  # it answered while the connection attempt was still hanging
    finally:
        release.set()


def test_the_probe_goes_where_requests_go(online, monkeypatch):
    assert datasets.hub_address() == ("huggingface.co", 443)
    monkeypatch.setenv("HF_ENDPOINT", "http://mirror.example:8080")
    assert datasets.hub_address() == ("mirror.example", 8080)
    monkeypatch.setenv("HF_ENDPOINT", "https://hf-mirror.example")
    assert datasets.hub_address() == ("hf-mirror.example", 443)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    assert datasets.hub_address() == ("proxy.example", 3128)
    monkeypatch.setenv("NO_PROXY", "hf-mirror.example")
    assert datasets.hub_address() == ("hf-mirror.example", 443)


def test_hub_offline_refuses_without_probing(online, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(datasets, "_hub_reachable", lambda: pytest.fail("probed although offline"))
    with pytest.raises(datasets.DatasetNotFound, match="HF_HUB_OFFLINE"):
        datasets.load("imdb", "test")
