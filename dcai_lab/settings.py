"""Every environment variable the lab reads, in one place.

Settings are read when asked for, not at import, so a notebook or a test can change the environment
and be obeyed at once.
"""
from __future__ import annotations

import os
from pathlib import Path

#: Data directory: where real datasets are read from (see ``data/README``).
DATA_DIR = "DCAI_LAB_DATA_DIR"
#: Cache of encoded datasets and twin-only gas models.
CACHE = "DCAI_LAB_CACHE"
#: A JSON-RPC node for ``backend = "rpc"``; kept in the environment so that an API key stays out of configs.
RPC_URL = "DCAI_LAB_RPC_URL"
#: Comma-separated private keys of funded accounts on a node without unlocked accounts.
PRIVATE_KEYS = "DCAI_LAB_PRIVATE_KEYS"
#: The anvil binary to start (default: the npm package's, then PATH).
ANVIL = "DCAI_LAB_ANVIL"
#: The Node binary that runs the edr engine (default: ``node`` on PATH).
NODE = "DCAI_LAB_NODE"
#: A node_modules folder holding @nomicfoundation/edr (default: the checkout's).
EDR_MODULES = "DCAI_LAB_EDR_MODULES"
#: Hugging Face's own offline switches, which the dataset loader honours too.
HF_OFFLINE = ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE")


def data_dir() -> str | None:
    """The configured data directory, or None for the default (``data/`` of the checkout)."""
    return os.environ.get(DATA_DIR) or None


def cache_dir() -> Path:
    """Where encoded datasets and gas models are cached (default ``~/.cache/dcai-lab``)."""
    return Path(os.environ.get(CACHE) or Path.home() / ".cache" / "dcai-lab")


def rpc_url() -> str | None:
    return os.environ.get(RPC_URL) or None


def private_keys() -> list[str]:
    """Keys from ``$DCAI_LAB_PRIVATE_KEYS`` (comma-separated), empty if unset."""
    return [k for k in os.environ.get(PRIVATE_KEYS, "").split(",") if k.strip()]


def anvil_binary() -> str | None:
    return os.environ.get(ANVIL) or None


def node_binary() -> str:
    return os.environ.get(NODE) or "node"


def edr_modules() -> str | None:
    return os.environ.get(EDR_MODULES) or None


def environment_with(**extra: str) -> dict[str, str]:
    """This process's environment plus ``extra``: for a child process (the edr engine's Node)."""
    return {**os.environ, **extra}


def hub_offline() -> bool:
    """Whether Hugging Face's offline mode is on: then nothing may reach for the hub."""
    return any(os.environ.get(v, "").lower() in ("1", "true", "yes") for v in HF_OFFLINE)
