"""Running the built `bit_llama` from the pytest suites (tests/apps, tests/python,
tests/server): where the binary is, one call with a clear failure, and tiny random
models made with `bit_llama init`. $BIT_LLAMA names the binary (ctest sets it);
otherwise build/bin/bit_llama."""
import json
import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def bit_llama_path():
    return os.environ.get("BIT_LLAMA") or str(ROOT / "build" / "bin" / "bit_llama")


def run_cli(*args, input=None, check=True, timeout=300):
    result = subprocess.run([bit_llama_path(), *map(str, args)], input=input, capture_output=True,
                            timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"bit_llama {' '.join(map(str, args))} failed "
                             f"({result.returncode}):\n{result.stderr.decode(errors='replace')}")
    return result


TINY_CONFIG = {"vocab_size": 300, "hidden_dim": 32, "num_layers": 2, "inner_lr": 0.5,
               "intermediate_dim": 48, "ttt_dim": 8}


def make_model(directory, seed=3, config=None, timeout=300, **overrides):
    """A random model directory from `config` (default TINY_CONFIG) with `overrides`."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    config_path = directory.parent / f"{directory.name}-config.json"
    config_path.write_text(json.dumps(dict(config or TINY_CONFIG, **overrides)))
    run_cli("init", "--config", config_path, "--seed", seed, "--out", directory, timeout=timeout)
    return directory
