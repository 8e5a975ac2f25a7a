"""dcai-lab: decentralized and collaborative AI on an embedded Ethereum chain."""
import os as _os

# pysha3 hashes several times faster than the pure-Python fallback; the user's choice wins.
try:
    import sha3 as _sha3  # noqa: F401  (safe-pysha3)

    _os.environ.setdefault("ETH_HASH_BACKEND", "pysha3")
except ImportError:
    pass

from . import datasets, encoders, experiments, incentives, models, subsets  # noqa: E402
from .chain import TX_GAS_CAP, Chain, fastest_backend  # noqa: E402
from .errors import ContractRevert, reverts  # noqa: E402
from .experiments import run, sweep  # noqa: E402
from .incentives import deploy_market, deploy_system  # noqa: E402
from .streaming import stream  # noqa: E402
from .system import Contribution, System  # noqa: E402

__version__ = "0.1.0"
__all__ = ["TX_GAS_CAP", "Chain", "ContractRevert", "Contribution", "System", "datasets", "deploy_market", "deploy_system",
           "encoders", "fastest_backend", "experiments", "incentives", "models", "reverts", "run", "stream", "subsets", "sweep"]
