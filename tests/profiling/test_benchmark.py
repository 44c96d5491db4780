"""cgrad.utils.benchmark: Timer runs the statement and returns
Measurements (structure and positive times only: no timing assertions),
Measurement's statistics and repr, and Compare's table, against torch's
for the same raw times."""
import pytest

import cgrad
from cgrad.utils import benchmark
from cgrad.utils.benchmark import Compare, Measurement, TaskSpec, Timer

from helpers import requires_torch

try:
    import torch
    import torch.utils.benchmark as torch_benchmark
except ImportError:
    torch = torch_benchmark = None

RAW = [[1.0e-5, 1.2e-5, 1.1e-5, 0.9e-5, 1.05e-5, 1.5e-5], [2.1e-3, 2.0e-3, 2.2e-3, 2.05e-3, 2.4e-3],
       [4.2e-8], [3.0e-6, 3.1e-6, 2.9e-6]]


def _measurement(module, raw, number=10, **spec):
    spec = dict(dict(stmt="x + y", setup="x = 1", label="add", sub_label="small", description="cgrad"), **spec)
    return module.Measurement(number_per_run=number, raw_times=list(raw), task_spec=module.TaskSpec(**spec))


def _body(text):
    return text.split("\n", 1)[1]      # past "<...Measurement object at 0x...>"


def test_timer_timeit_and_autoranges():
    x = cgrad.ones(8)
    timer = Timer("x + x", globals={"x": x}, label="add", sub_label="8", description="cgrad")
    calls = []
    for m in (timer.timeit(200), timer.blocked_autorange(min_run_time=0.01),
              timer.blocked_autorange(callback=lambda n, t: calls.append((n, t)), min_run_time=0.01),
              timer.adaptive_autorange(min_run_time=0.01, max_run_time=0.2)):
        assert isinstance(m, Measurement)
        assert m.times and all(t > 0 for t in m.times) and m.median > 0 and m.mean > 0 and m.iqr >= 0
        assert m.number_per_run >= 1 and m.label == "add" and m.stmt == "x + x"
        assert 1 <= m.significant_figures <= 4
        assert repr(m).startswith("<cgrad.utils.benchmark.utils.common.Measurement object at 0x")
        assert "add: 8\ncgrad\n" in repr(m)
    assert calls and all(n >= 1 and t > 0 for n, t in calls)


def test_timer_statement_forms():
    assert Timer("torch.ones(2).sum()").timeit(5).median > 0      # `torch` is cgrad, as the scripts import it
    m = Timer("""
        y = x * 2
        y.sum()
    """, setup="x = torch.ones(3)").timeit(3)
    assert m.stmt == "y = x * 2\ny.sum()" and m.setup == "x = torch.ones(3)"
    with pytest.raises(ValueError, match="Currently only a `str` stmt is supported."):
        Timer(lambda: 1)
    with pytest.raises(ValueError, match="global_setup is C\\+\\+ only"):
        Timer("pass", global_setup="int x;")
    with pytest.raises(NotImplementedError, match="See `Timer.blocked_autorange.`"):
        Timer().repeat()
    with pytest.raises(NotImplementedError, match="See `Timer.blocked_autorange.`"):
        Timer().autorange()
    with pytest.raises(NameError):
        Timer("undefined_name").timeit(1)


def test_timer_pins_threads_and_restores_them():
    before = cgrad.get_num_threads()
    seen = []
    Timer("seen.append(torch.get_num_threads())", globals={"seen": seen}, num_threads=1).timeit(2)
    assert set(seen) == {1} and cgrad.get_num_threads() == before


def test_measurement_statistics_by_hand():
    m = _measurement(benchmark, [10.0, 20.0, 30.0, 40.0], number=10)
    assert m.times == [1.0, 2.0, 3.0, 4.0]
    assert m.median == 2.5 and m.mean == 2.5 and m.iqr == pytest.approx(3.25 - 1.75)
    assert m.has_warnings and not m.meets_confidence()
    merged = Measurement.merge([m, _measurement(benchmark, [50.0], number=10)])
    assert len(merged) == 1 and merged[0].number_per_run == 1 and merged[0].times == [1.0, 2.0, 3.0, 4.0, 5.0]


@requires_torch
@pytest.mark.parametrize("raw", RAW)
@pytest.mark.parametrize("number", [1, 100])
def test_measurement_matches_torch(raw, number):
    ours, theirs = _measurement(benchmark, raw, number), _measurement(torch_benchmark, raw, number)
    assert _body(repr(ours)) == _body(repr(theirs))
    for attribute in ("median", "mean", "iqr", "times", "significant_figures", "has_warnings", "title",
                      "as_row_name", "env"):
        assert getattr(ours, attribute) == pytest.approx(getattr(theirs, attribute)), attribute


def _compare(module, trim=False, colorize=None, warnings=False):
    results = []
    for sub_label, raws in (("small", RAW[0]), ("large", RAW[1])):
        for description, scale in (("a", 1.0), ("b", 2.5)):
            for threads in (1, 4):
                results.append(_measurement(module, [t * scale / threads for t in raws], sub_label=sub_label,
                                            description=description, num_threads=threads))
    results.append(_measurement(module, RAW[3], label="other", description="a"))
    compare = module.Compare(results)
    if trim:
        compare.trim_significant_figures()
    if colorize is not None:
        compare.colorize(rowwise=colorize)
    if warnings:
        compare.highlight_warnings()
    return str(compare)


@requires_torch
@pytest.mark.parametrize("options", [{}, {"trim": True}, {"colorize": False}, {"colorize": True},
                                     {"warnings": True, "trim": True}])
def test_compare_table_matches_torch(options):
    assert _compare(benchmark, **options) == _compare(torch_benchmark, **options)


def test_compare_table_by_hand():
    table = _compare(benchmark)
    lines = table.splitlines()
    assert lines[0].startswith("[") and " add " in lines[0] and lines[0].endswith("]")
    assert [c.strip() for c in lines[1].split("|")] == ["", "a", "b"]
    assert lines[2].startswith("1 threads: ---")
    assert lines[-1] == "Times are in nanoseconds (ns)."          # the smallest median is 25 ns
    assert table.count("Times are in ") == 2 and " other " in table   # a block per label
    with pytest.raises(ValueError, match="Expected an instance of `Measurement`"):
        Compare([1.0])


def test_task_spec_and_units():
    spec = TaskSpec(stmt="a\nb", setup="x = 1", sub_label="s")
    assert spec.title == "stmt: (s)\n  a\n  b" and spec.setup_str() == "setup: x = 1"
    assert benchmark.select_unit(3e-7) == ("ns", 1e-9) and benchmark.select_unit(2.0) == ("s", 1)
    assert benchmark.trim_sigfig(3.14159, 2) == pytest.approx(3.1)
    assert benchmark.ordered_unique([3, 1, 3, 2, 1]) == [3, 1, 2]
