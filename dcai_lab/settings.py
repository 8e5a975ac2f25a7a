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
#: Hugging Face's hub address (default https://huggingface.co); the loader checks that it answers.
HF_ENDPOINT = "HF_ENDPOINT"
#: eth-hash's choice of keccak implementation: ``pysha3`` or ``pycryptodome`` (see :func:`prefer_fast_keccak`).
ETH_HASH_BACKEND = "ETH_HASH_BACKEND"


def data_dir() -> str | None:
    """The configured data directory, or None for the default (``data/`` of a checkout, else a per-user
    folder: ``datasets.default_data_dir``)."""
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


def prefer_fast_keccak() -> str | None:
    """Have eth-hash use pysha3 (the ``fast`` extra, safe-pysha3) when it is installed and the user named no
    backend: it hashes several times faster than pycryptodome, which eth-hash picks first otherwise.
    Both give the same digests (``tests/unit/test_keccak_backends.py``). Returns the backend in force."""
    if ETH_HASH_BACKEND not in os.environ:
        try:
            import sha3  # noqa: F401  (safe-pysha3)
        except ImportError:
            return None
        os.environ[ETH_HASH_BACKEND] = "pysha3"
    return os.environ[ETH_HASH_BACKEND]


def hub_offline() -> bool:
    """Whether Hugging Face's offline mode is on: then nothing may reach for the hub."""
    return any(os.environ.get(v, "").lower() in ("1", "true", "yes") for v in HF_OFFLINE)


def hub_endpoint() -> str:
    """The Hugging Face hub's address: ``$HF_ENDPOINT``, or https://huggingface.co."""
    return os.environ.get(HF_ENDPOINT) or "https://huggingface.co"


def proxy_for(url: str) -> str | None:
    """The proxy a request to ``url`` goes through (``$HTTPS_PROXY`` and the like, unless ``$NO_PROXY``
    exempts the host), or None."""
    import urllib.request
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.hostname and urllib.request.proxy_bypass(parts.hostname):
        return None
    return urllib.request.getproxies().get(parts.scheme) or None
