"""cgrad.profiler's outputs: key_averages().table() in torch's layout
(header line, columns, separators, footer; compared with torch's table of
the same code), export_chrome_trace as valid Chrome trace JSON,
tensorboard_trace_handler's files, export_stacks."""
import gzip
import json
import os
import re

import pytest

import cgrad
from cgrad.profiler import ProfilerActivity, profile, record_function, tensorboard_trace_handler

from helpers import requires_torch

try:
    import torch
except ImportError:
    torch = None


def _profiled(lib, **options):
    x = lib.ones(4, 4)
    with lib.profiler.profile(activities=[lib.profiler.ProfilerActivity.CPU], **options) as prof:
        with lib.profiler.record_function("region"):
            lib.mm(x, x)
            lib.mm(x, x)
            x.sum()
    return prof


def _header(table):
    lines = table.splitlines()
    return lines[0], lines[1], re.split(r"\s{2,}", lines[1].strip())


def test_table_layout():
    prof = _profiled(cgrad)
    table = prof.key_averages().table(sort_by="cpu_time_total", row_limit=2)
    sep, header, columns = _header(table)
    assert columns == ["Name", "Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg", "# of Calls"]
    lines = table.splitlines()
    assert lines[2] == sep and set(sep) == {"-", " "}
    assert lines[3].split()[0] == "region"           # the largest total first
    assert len(lines) == 3 + 2 + 2                   # header, row_limit rows, separator, footer
    assert lines[-2] == sep and re.fullmatch(r"Self CPU time total: [0-9.]+(us|ms|s)", lines[-1])
    assert lines[3].split()[2] == "100.00%" or lines[3].split()[3] == "100.00%"
    assert "Input Shapes" not in prof.key_averages(group_by_input_shape=True).table()    # shapes not recorded
    grouped = _profiled(cgrad, record_shapes=True).key_averages(group_by_input_shape=True).table(
        sort_by="self_cpu_time_total", row_limit=10)
    assert _header(grouped)[2][-1] == "Input Shapes"
    rows = {line.split()[0]: line for line in grouped.splitlines()[3:-2]}
    assert rows["aten::mm"].split()[6] == "2"                 # # of Calls
    memory = _profiled(cgrad, profile_memory=True).key_averages().table()
    assert _header(memory)[2][-3:] == ["CPU Mem", "Self CPU Mem", "# of Calls"]


@requires_torch
@pytest.mark.parametrize("options, group", [({}, False), ({"record_shapes": True}, True),
                                            ({"profile_memory": True}, False)])
def test_table_layout_matches_torch(options, group):
    ours = _profiled(cgrad, **options).key_averages(group_by_input_shape=group).table(sort_by="cpu_time_total")
    theirs = _profiled(torch, **options).key_averages(group_by_input_shape=group).table(sort_by="cpu_time_total")
    assert _header(ours)[2] == _header(theirs)[2]
    # the same column widths: the separators match up to the name and shapes columns' widths
    ours_widths = [len(part) for part in _header(ours)[0].split()]
    theirs_widths = [len(part) for part in _header(theirs)[0].split()]
    assert ours_widths[1:len(ours_widths) - group] == theirs_widths[1:len(theirs_widths) - group]
    assert ours.splitlines()[-1].startswith("Self CPU time total: ")


def test_chrome_trace_is_valid_json(tmp_path):
    prof = _profiled(cgrad, record_shapes=True)
    path = str(tmp_path / "trace.json")
    prof.export_chrome_trace(path)
    with open(path) as f:
        trace = json.load(f)
    events = trace["traceEvents"]
    names = [e["name"] for e in events]
    assert names == ["region", "aten::mm", "aten::mm", "aten::sum"]
    for entry in events:
        assert entry["ph"] == "X" and entry["dur"] >= 0 and entry["pid"] == os.getpid()
        assert isinstance(entry["ts"], float) and isinstance(entry["tid"], int)
    assert events[0]["cat"] == "user_annotation" and events[1]["cat"] == "cpu_op"
    assert events[1]["args"]["Input Dims"] == [[4, 4], [4, 4]]
    region, first = events[0], events[1]
    assert region["ts"] <= first["ts"] and first["ts"] + first["dur"] <= region["ts"] + region["dur"]
    gz = str(tmp_path / "trace.json.gz")
    prof.export_chrome_trace(gz)
    with gzip.open(gz, "rt") as f:
        assert json.load(f)["traceEvents"] == events


def test_tensorboard_trace_handler_writes_one_file_per_cycle(tmp_path):
    from cgrad.profiler import schedule
    with profile(schedule=schedule(wait=1, warmup=1, active=2, repeat=2),
                 on_trace_ready=tensorboard_trace_handler(str(tmp_path), worker_name="w0")) as prof:
        for _ in range(10):
            cgrad.ones(2).sum()
            prof.step()
    files = sorted(os.listdir(tmp_path))
    assert len(files) == 2 and all(re.fullmatch(r"w0\.\d+\.pt\.trace\.json", f) for f in files)
    for name in files:
        with open(tmp_path / name) as f:
            trace = json.load(f)
        steps = [e["name"] for e in trace["traceEvents"] if e["name"].startswith("ProfilerStep#")]
        assert len(steps) == 2


def test_export_stacks(tmp_path):
    x = cgrad.ones(3)
    with profile(with_stack=True) as prof:
        x.exp()
    path = tmp_path / "stacks.txt"
    prof.export_stacks(str(path))
    (line,) = path.read_text().splitlines()
    stack, value = line.rsplit(" ", 1)
    assert "test_export_stacks" in stack and int(value) >= 0


def test_event_list_str_and_averages():
    prof = _profiled(cgrad)
    averages = prof.key_averages()
    assert str(averages) == averages.table()
    mm = next(a for a in averages if a.key == "aten::mm")
    assert mm.count == 2 and mm.cpu_time == pytest.approx(mm.cpu_time_total / 2)
    total = prof.events().total_average()
    assert total.key == "Total" and total.count == 4
    assert repr(mm).startswith("<FunctionEventAvg key=aten::mm self_cpu_time=")
    with record_function("outside"):
        pass
