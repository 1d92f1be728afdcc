"""Helpers of the bit_ttt Python package tests: models made with `bit_llama init`.

Run through ctest (python_pytest), which puts the built package (build/python) on
PYTHONPATH and names the bit_llama binary in $BIT_LLAMA; run by hand with
    PYTHONPATH=build/python BIT_LLAMA=build/bin/bit_llama python3 -m pytest tests/python
"""
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if "PYTHONPATH" not in os.environ:  # run by hand without ctest: use build/python
    sys.path.insert(0, str(ROOT / "build" / "python"))
sys.path.insert(0, str(ROOT / "tests"))
from bit_llama_cli import TINY_CONFIG, bit_llama_path, make_model, run_cli  # noqa: E402,F401
