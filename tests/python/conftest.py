"""Fixtures of the bit_ttt Python package tests (helpers in python_test_helpers.py,
named apart from tests/apps/conftest.py so both suites can share one pytest run)."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from python_test_helpers import make_model  # noqa: E402


@pytest.fixture
def tiny_model(tmp_path):
    return make_model(tmp_path / "tiny")


@pytest.fixture(scope="session")
def session_model(tmp_path_factory):
    return make_model(tmp_path_factory.mktemp("session") / "tiny")
