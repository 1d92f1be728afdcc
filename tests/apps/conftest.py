import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))


def bit_llama_path():
    path = os.environ.get("BIT_LLAMA")
    if path:
        return path
    return str(Path(__file__).resolve().parents[2] / "build" / "bin" / "bit_llama")


def shared_data():
    path = os.environ.get("BIT_TTT_SHARED_DATA")
    if path:
        return Path(path)
    return Path(__file__).resolve().parents[3] / "shared" / "data"


def run_cli(*args, input=None, check=True, timeout=300):
    result = subprocess.run([bit_llama_path(), *map(str, args)], input=input, capture_output=True,
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
    config = dict(TINY_CONFIG, **overrides)
    config_path = directory.parent / f"{directory.name}-config.json"
    config_path.write_text(json.dumps(config))
    run_cli("init", "--config", config_path, "--seed", seed, "--out", directory)
    return directory


@pytest.fixture
def tiny_model(tmp_path):
    return make_model(tmp_path / "tiny")
