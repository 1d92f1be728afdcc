"""bit_ttt.train and bit_ttt.prepare: the engine's trainer and corpus preparation
running on a worker thread, with progress reported to an optional callback."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, Optional, Union

from . import _core

PathLike = Union[str, "os.PathLike[str]"]

_TRAIN_KEYS = tuple(
    name for name in dir(_core.TrainOptions) if not name.startswith("_") and name != "to_json"
)


def _metrics_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def train(
    data: Optional[PathLike] = None,
    *,
    callback: Optional[Callable[[Dict[str, Any]], Optional[bool]]] = None,
    poll_seconds: float = 0.2,
    **options: Any,
) -> Dict[str, Any]:
    """Trains a model, like ``bit_llama train`` (same options, dashes -> underscores).

    Options (defaults as the CLI): data, val_data, tokenizer, output_dir, load, dim,
    layers, inner_lr, activation_quant, context_len, batch_size, grad_accum, steps,
    lr, min_lr, warmup_steps, weight_decay, grad_clip, seed, save_interval,
    val_interval, val_batches, log_interval, keep_checkpoints, threads, stop_at_step,
    device ("cpu" or "cuda": parameters, gradients and AdamW on the GPU).
    A ``TrainOptions`` may be passed as ``options=``.

    ``callback(record)`` is called on this thread for every training step with the
    step's metrics record (step, loss, lr, grad_norm, and tokens_per_s / val_loss
    when logged) plus ``steps`` (the target). Returning False stops training: a
    checkpoint is saved and the result has ``interrupted=True``. Ctrl-C
    (KeyboardInterrupt) does the same and is re-raised after the checkpoint.

    Returns a dict: final_step, final_loss, best_val_loss (None when never
    validated), interrupted, last_checkpoint. Engine errors raise bit_ttt.Error.
    """
    base = options.pop("options", None)
    opts = _core.TrainOptions() if base is None else base
    if data is not None:
        opts.data = data
    for key, value in options.items():
        if key not in _TRAIN_KEYS:
            raise TypeError(f"train() got an unknown option '{key}' (valid: {', '.join(_TRAIN_KEYS)})")
        setattr(opts, key, value)
    if not str(opts.data) or str(opts.data) == ".":
        raise ValueError("train() needs data= (train.bin or the directory prepare wrote)")
    if callback is not None and not callable(callback):
        raise TypeError("callback must be callable")

    metrics_path = Path(opts.output_dir) / "metrics.jsonl"
    offset = _metrics_size(metrics_path)
    pending = b""
    stop_requested = False

    def poll() -> None:
        nonlocal offset, pending, stop_requested
        if callback is None:
            return
        size = _metrics_size(metrics_path)
        if size < offset:  # the file was replaced: start over
            offset, pending = 0, b""
        if size == offset:
            return
        with open(metrics_path, "rb") as file:
            file.seek(offset)
            chunk = file.read(size - offset)
        offset += len(chunk)
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for line in lines:
            if not line.strip():
                continue
            record = json.loads(line)
            record.setdefault("steps", opts.steps)
            if callback(record) is False and not stop_requested:
                stop_requested = True
                job.stop()

    job = _core._start_training(opts)
    try:
        while not job.wait(poll_seconds):
            poll()
        poll()
    except BaseException:
        job.stop()
        job.wait()
        raise
    return job.result()


def prepare(
    inputs: Union[PathLike, Iterable[PathLike]],
    tokenizer: PathLike,
    out: PathLike,
    *,
    val_fraction: float = 0.01,
    field: str = "text",
    separator: str = "<|endoftext|>",
    skip_invalid: bool = False,
    no_eos: bool = False,
    threads: int = 0,
    min_tokens: int = 129,
    quiet: bool = True,
    callback: Optional[Callable[[Dict[str, Any]], Optional[bool]]] = None,
    poll_seconds: float = 0.2,
) -> Dict[str, Any]:
    """Tokenizes a corpus into ``out/train.bin`` and ``out/val.bin``, like ``bit_llama prepare``.

    inputs: .txt/.md/.jsonl files or directories. tokenizer: tokenizer.json or its
    directory. quiet=False draws the engine's progress bar on stderr.

    ``callback(progress)`` is called on this thread: ``{"phase": "start",
    "n_bytes_total"}``, then ``{"phase": "running", "elapsed_s",
    "n_bytes_written"}`` every poll, then ``{"phase": "done", **stats}``. Its return
    value is ignored (preparation cannot be cancelled half way).

    Returns the statistics as a dict (n_files, n_bytes, n_train_tokens,
    n_val_tokens, n_train_documents, n_val_documents, ..., summary).
    """
    if isinstance(inputs, (str, os.PathLike)):
        inputs = [inputs]
    paths = [Path(p) for p in inputs]
    if callback is not None and not callable(callback):
        raise TypeError("callback must be callable")
    out_dir = Path(out)

    def written() -> int:
        try:
            return sum(p.stat().st_size for p in out_dir.iterdir() if p.is_file())
        except OSError:
            return 0

    if callback is not None:
        total = 0
        for path in paths:
            if path.is_dir():
                total += sum(p.stat().st_size for p in path.rglob("*")
                             if p.is_file() and p.suffix in (".txt", ".md", ".jsonl"))
            elif path.exists():
                total += path.stat().st_size
        callback({"phase": "start", "n_bytes_total": total})
    start = time.monotonic()
    job = _core._start_prepare(paths, Path(tokenizer), out_dir, val_fraction, field, separator,
                               skip_invalid, no_eos, threads, min_tokens, quiet)
    while not job.wait(poll_seconds):
        if callback is not None:
            callback({"phase": "running", "elapsed_s": time.monotonic() - start,
                      "n_bytes_written": written()})
    stats = job.result()
    if callback is not None:
        callback({"phase": "done", **stats})
    return stats
