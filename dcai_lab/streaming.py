"""Stream a dataset into a deployed system, one contribution per transaction."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from .encoders import TextEncoder
from .errors import ContractRevert
from .interrupts import between_steps
from .progress import bar as progress_bar


@dataclass(frozen=True)
class StreamRecord:
    """What happened to one sample."""

    index: int
    sender: str | None
    label: int
    outcome: str  # "added", "reverted" or "skipped"
    reason: str = ""
    deposit: int = 0
    gas_used: int = 0
    block_time: int = 0


@dataclass
class StreamResult:
    records: list[StreamRecord] = field(default_factory=list)
    contributions: list = field(default_factory=list)  # Contribution of every added sample, in order
    interrupted: bool = False

    def to_pandas(self):
        import pandas as pd

        return pd.DataFrame([asdict(r) for r in self.records], columns=list(StreamRecord.__dataclass_fields__))


class StreamError(RuntimeError):
    """An unexpected error stopped the stream; ``result`` holds every record made before it."""

    def __init__(self, message: str, result: StreamResult):
        super().__init__(message)
        self.result = result


def round_robin(senders):
    """Policy: senders take turns and give the true label."""
    senders = list(senders)

    def policy(i, label):
        return senders[i % len(senders)], int(label)
    return policy


def stream(system, samples, labels=None, *, encoder=None, policy=None, seconds_between: int = 600,
           progress: bool = True, stop_on_revert: bool = False) -> StreamResult:
    """Send samples to ``system`` one by one; record gas, time and outcome of each.

    ``samples`` are encoded samples with ``labels`` beside them, or an iterable of rows (e.g. a Hugging
    Face ``Dataset`` or ``IterableDataset``) with a ``label`` field, encoded on the way by ``encoder``
    (text from the row's ``text``; whole rows for tabular encoders). ``policy(i, label)`` returns
    ``(sender, label_to_send)``; by default accounts 1-3 take turns with the true label. The chain's
    clock moves ``seconds_between`` before each contribution. Empty samples are skipped (the contracts
    refuse them); reverted contributions are recorded with their reason. Ctrl-C stops cleanly with
    ``interrupted=True`` after the contribution in flight is mined and recorded, so the records always
    equal the chain; any other error raises StreamError carrying every record made so far.
    """
    chain = system.chain
    policy = policy or round_robin(chain.accounts[1:4])
    pairs = zip(samples, labels) if labels is not None else ((_encode(row, encoder), row["label"]) for row in samples)
    result = StreamResult()
    total = len(samples) if labels is not None and hasattr(samples, "__len__") else None
    bar = progress_bar(progress, total=total, desc="contributions")
    try:
        with between_steps("the stream") as stop:
            _send_all(system, chain, pairs, policy, seconds_between, stop_on_revert, result, bar, stop)
    except KeyboardInterrupt:  # a second Ctrl-C, or outside the main thread
        result.interrupted = True
    except Exception as exc:
        raise StreamError(f"stream stopped at sample {len(result.records)}: {exc}", result) from exc
    finally:
        bar.close()
    return result


def _send_all(system, chain, pairs, policy, seconds_between, stop_on_revert, result, bar, stop) -> None:
    for i, (x, y) in enumerate(pairs):
        if stop.requested:  # here the records equal the chain
            result.interrupted = True
            return
        sender, label = policy(i, y)
        if len(x) == 0:
            result.records.append(StreamRecord(i, sender, label, "skipped", "empty sample"))
            bar.update()
            continue
        if seconds_between:
            chain.time_travel(seconds_between)
        try:
            c = system.add_data(x, label, sender=sender)
        except ContractRevert as err:
            result.records.append(StreamRecord(i, sender, label, "reverted", err.error, gas_used=err.gas_used or 0))
            if stop_on_revert:
                return
        else:
            result.contributions.append(c)
            result.records.append(StreamRecord(i, sender, label, "added", deposit=c.deposit, gas_used=c.gas_used,
                                               block_time=c.added_time))
        bar.update()


def _encode(row, encoder):
    if encoder is None:
        raise TypeError("rows need an encoder: pass encoder= (or pass encoded samples with labels=)")
    return encoder.encode_one(row["text"] if isinstance(encoder, TextEncoder) else row)
