import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bit_llama_cli import TINY_CONFIG, bit_llama_path, make_model, run_cli  # noqa: E402,F401


def shared_data():
    path = os.environ.get("BIT_TTT_SHARED_DATA")
    if path:
        return Path(path)
    return Path(__file__).resolve().parents[3] / "shared" / "data"


@pytest.fixture
def tiny_model(tmp_path):
    return make_model(tmp_path / "tiny")
