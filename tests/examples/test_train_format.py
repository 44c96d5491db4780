"""The main job's duration format (cgrad/examples/train.py): three
significant digits in a unit that shows them, never "0.00" or "116."."""
import pytest

from cgrad.examples.train import format_seconds


@pytest.mark.parametrize("seconds, text", [
    (0.0000123, "12.3 us"), (0.000999, "999 us"), (0.0015, "1.50 ms"), (0.0999, "99.9 ms"),
    (0.116, "116 ms"), (1.5, "1.50 s"), (150.2, "150 s"),
])
def test_format_seconds(seconds, text):
    assert format_seconds(seconds) == text
