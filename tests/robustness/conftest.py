"""The robustness suite's configuration: the `slow` marker (skipped unless
--runslow or CGRAD_SLOW_TESTS=1) and this directory on sys.path for
robust_helpers."""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))


def pytest_addoption(parser):
    try:
        parser.addoption("--runslow", action="store_true", default=False,
                         help="also run tests marked slow (tests/robustness: the 200M-element test)")
    except ValueError:  # already registered by another conftest
        pass


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: minutes or GBs; skipped unless --runslow or CGRAD_SLOW_TESTS=1")


def _run_slow(config):
    return config.getoption("--runslow") or os.environ.get("CGRAD_SLOW_TESTS", "") not in ("", "0")


def pytest_collection_modifyitems(config, items):
    if _run_slow(config):
        return
    skip = pytest.mark.skip(reason="slow: run with --runslow or CGRAD_SLOW_TESTS=1")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
