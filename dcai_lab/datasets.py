"""Where datasets live and how to read them.

The data directory is ``$DCAI_LAB_DATA_DIR`` if set, otherwise ``data/`` of the checkout. It holds
Parquet files laid out as ``<name>/<split>.parquet`` (see ``data/README.md``).
"""
from __future__ import annotations

import os
from pathlib import Path

REPO_DATA = Path(__file__).resolve().parents[1] / "data"
ENV_VAR = "DCAI_LAB_DATA_DIR"


class DatasetNotFound(FileNotFoundError):
    pass


def data_dir() -> Path:
    """The configured data directory (it need not contain every dataset)."""
    configured = os.environ.get(ENV_VAR)
    if configured:
        path = Path(configured).expanduser()
        if not path.is_dir():
            raise DatasetNotFound(f"{ENV_VAR}={configured} is not a directory: point it at the folder "
                                  "holding <dataset>/<split>.parquet, or unset it to use data/")
        return path
    return REPO_DATA


def parquet_path(name: str, split: str) -> Path:
    path = data_dir() / name / f"{split}.parquet"
    if not path.is_file():
        raise DatasetNotFound(f"{name} split {split!r} not found at {path}: set {ENV_VAR} to a folder holding "
                              f"{name}/{split}.parquet (for example ../shared/data)")
    return path


def has(name: str, split: str = "train") -> bool:
    """Whether the data directory holds ``name``/``split``; a misconfigured directory still raises."""
    return (data_dir() / name / f"{split}.parquet").is_file()


def load(name: str, split: str = "train", progress: bool = False):
    """A Hugging Face ``Dataset`` read from the data directory's Parquet file for ``name``/``split``."""
    import datasets as hf

    path = str(parquet_path(name, split))
    was_enabled = hf.is_progress_bar_enabled()
    if not progress:
        hf.disable_progress_bars()
    try:
        return hf.Dataset.from_parquet(path)
    finally:
        if was_enabled:
            hf.enable_progress_bars()
