"""dcai-lab: decentralized and collaborative AI on an embedded Ethereum chain.

The public names below are imported on first use (PEP 562), so ``import dcai_lab`` and the command line's
``--help`` start at once; ``from dcai_lab import Chain`` and ``dcai_lab.datasets`` work as before.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from . import settings as _settings

# pysha3 (the "fast" extra) when installed, before anything hashes; the user's ETH_HASH_BACKEND wins.
_settings.prefer_fast_keccak()

__version__ = "0.1.0"
__all__ = ["TX_GAS_CAP", "Chain", "ContractRevert", "Contribution", "System", "datasets", "deploy_market", "deploy_system",
           "encoders", "fastest_backend", "experiments", "incentives", "models", "reverts", "run", "stream", "subsets", "sweep"]

#: public name -> the module that defines it (a submodule itself when the name is the module's)
_WHERE = {
    "datasets": ".datasets", "encoders": ".encoders", "experiments": ".experiments", "incentives": ".incentives",
    "models": ".models", "subsets": ".subsets",
    "TX_GAS_CAP": ".chain", "Chain": ".chain", "fastest_backend": ".chain",
    "ContractRevert": ".errors", "reverts": ".errors",
    "run": ".experiments", "sweep": ".experiments",
    "deploy_market": ".incentives", "deploy_system": ".incentives",
    "stream": ".streaming",
    "Contribution": ".system", "System": ".system",
}

if TYPE_CHECKING:  # what a type checker and an editor see; at run time __getattr__ imports these
    from . import datasets, encoders, experiments, incentives, models, subsets
    from .chain import TX_GAS_CAP, Chain, fastest_backend
    from .errors import ContractRevert, reverts
    from .experiments import run, sweep
    from .incentives import deploy_market, deploy_system
    from .streaming import stream
    from .system import Contribution, System


def __getattr__(name: str):
    if name.startswith("__"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if name in _WHERE:
        module = importlib.import_module(_WHERE[name], __name__)
        value = module if _WHERE[name] == f".{name}" else getattr(module, name)
    else:  # any other submodule, as when this file imported them all: ``dcai_lab.chain``
        try:
            value = importlib.import_module(f".{name}", __name__)
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
