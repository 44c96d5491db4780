"""The suite's configuration: this folder on sys.path (helpers), the
--without-torch option (the suite as it runs where torch is not installed:
`import torch` fails in every test module), and the rule that a test whose
helper calls could check nothing without torch is reported as skipped,
with the reasons, not as passed (helpers.torch_free_checks).

Property tests draw the same examples on every run (hypothesis's
derandomize), so a run of the suite, CI's included, is reproducible: a
defect hypothesis finds by chance would otherwise fail one run in many.
CGRAD_HYPOTHESIS_EXPLORE=1 draws fresh examples, to hunt for new ones."""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

try:
    from hypothesis import settings as _hypothesis_settings
except ImportError:
    pass
else:
    _hypothesis_settings.register_profile("reproducible", derandomize=True, database=None)
    _hypothesis_settings.register_profile("explore")
    _hypothesis_settings.load_profile("explore" if os.environ.get("CGRAD_HYPOTHESIS_EXPLORE") else "reproducible")


def pytest_addoption(parser):
    parser.addoption("--without-torch", action="store_true", default=False,
                     help="run as if torch were not installed (the torch-free checks)")


def pytest_configure(config):
    if config.getoption("--without-torch"):
        if "torch" in sys.modules:
            raise pytest.UsageError("--without-torch: torch was imported before the tests were collected")
        sys.modules["torch"] = None  # `import torch` raises ImportError from here on


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    import helpers
    helpers.torch_free_checks.reset()
    result = yield
    if helpers.torch_free_checks.nothing_checked():
        reasons = sorted(set(helpers.torch_free_checks.unchecked))
        message = "torch not installed, and without it: " + "; ".join(reasons)
        try:   # reported at the test's own location, as a skip marker's would be (pytest >= 7.2)
            skipped = pytest.skip.Exception(message, _use_item_location=True)
        except TypeError:
            skipped = pytest.skip.Exception(message)
        raise skipped
    return result
