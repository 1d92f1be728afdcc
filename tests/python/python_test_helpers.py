"""Helpers of the bit_ttt Python package tests: models made with `bit_llama init`.

Run through ctest (python_pytest), which puts the built package (build/python) on
PYTHONPATH and names the bit_llama binary in $BIT_LLAMA; run by hand with
    PYTHONPATH=build/python BIT_LLAMA=build/bin/bit_llama python3 -m pytest tests/python
"""
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if "PYTHONPATH" not in os.environ:  # run by hand without ctest: use build/python
    sys.path.insert(0, str(ROOT / "build" / "python"))


def bit_llama_path():
    return os.environ.get("BIT_LLAMA") or str(ROOT / "build" / "bin" / "bit_llama")


def run_cli(*args, check=True, timeout=300):
    result = subprocess.run([bit_llama_path(), *map(str, args)], capture_output=True,
                            timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"bit_llama {' '.join(map(str, args))} failed "
                             f"({result.returncode}):\n{result.stderr.decode(errors='replace')}")
    return result


TINY_CONFIG = {"vocab_size": 300, "hidden_dim": 32, "num_layers": 2, "inner_lr": 0.5,
               "intermediate_dim": 48, "ttt_dim": 8}


def make_model(directory, seed=3, **overrides):
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    config_path = directory.parent / f"{directory.name}-config.json"
    config_path.write_text(json.dumps(dict(TINY_CONFIG, **overrides)))
    run_cli("init", "--config", config_path, "--seed", seed, "--out", directory)
    return directory
