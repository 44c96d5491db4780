"""The torch.jit language helpers under `import cgrad as torch`: the same
calls through torch.jit and cgrad.jit give the same values and errors."""
from typing import Dict, List, Optional, Tuple

import pytest

import cgrad
import cgrad.nn as cnn
from tests.helpers import requires_torch, torch

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.* is deprecated:DeprecationWarning")


def test_script_using_every_helper_runs_under_cgrad():
    torch_ = cgrad

    @torch_.jit.interface
    class Scaler(cnn.Module):
        def forward(self, x: cgrad.Tensor) -> cgrad.Tensor:
            pass

    class Model(cnn.Module):
        limit: torch_.jit.Final[int] = 3

        def __init__(self):
            super().__init__()
            self.fc = cnn.Linear(2, 2)
            self.count = torch_.jit.Attribute(0, int)

        def forward(self, x):
            items = torch_.jit.annotate(List[cgrad.Tensor], [])
            for _ in range(self.limit):
                items.append(self.fc(x))
            if not torch_.jit.is_scripting():
                fut = torch_.jit.fork(cgrad.add, items[0], 1)
                return torch_.jit.wait(fut) + sum(items)
            return sum(items)

    m = torch_.jit.script(Model())
    x = cgrad.ones(1, 2)
    expected = m.fc(x) + 1 + 3 * m.fc(x)
    with torch_.jit.strict_fusion():
        assert cgrad.allclose(m(x), expected)
    assert Scaler.__name__ == "Scaler"
    assert m.count == torch_.jit.Attribute(0, int) and m.count.value == 0


@requires_torch
@pytest.mark.parametrize("value, hint", [([1, 2], List[int]), ([1, "a"], List[int]), ({"a": 1}, Dict[str, int]),
                                         ({"a": "b"}, Dict[str, int]), ((1, "a"), Tuple[int, str]),
                                         ((1, 2), Tuple[int, str]), (None, Optional[int]), (3, Optional[int]),
                                         ("s", Optional[int]), ([], List[str])])
def test_isinstance_matches_torch(value, hint):
    assert cgrad.jit.isinstance(value, hint) == torch.jit.isinstance(value, hint)


@requires_torch
def test_isinstance_of_tensors():
    assert cgrad.jit.isinstance([cgrad.ones(1)], List[cgrad.Tensor]) == \
        torch.jit.isinstance([torch.ones(1)], List[torch.Tensor]) is True
    assert cgrad.jit.isinstance(cgrad.ones(1), cgrad.Tensor) is True


@requires_torch
def test_annotate_attribute_final_match_torch():
    for lib in (cgrad, torch):
        assert lib.jit.annotate(int, 3) == 3
        assert lib.jit.annotate(List[int], []) == []
    assert cgrad.jit.Final is torch.jit.Final
    assert repr(cgrad.jit.Attribute(3, int)) == repr(torch.jit.Attribute(3, int))
    assert tuple(cgrad.jit.Attribute(3, int)) == tuple(torch.jit.Attribute(3, int))


@requires_torch
def test_fork_wait_match_torch():
    for lib in (cgrad, torch):
        fut = lib.jit.fork(lambda a, b=1: a * b, lib.full((2,), 3.0), b=2)
        assert fut.done()
        assert lib.jit.wait(fut).tolist() == [6.0, 6.0]
        assert fut.wait().tolist() == [6.0, 6.0]
        with pytest.raises(ZeroDivisionError):
            lib.jit.fork(lambda: 1 / 0)


@requires_torch
def test_fusion_settings_match_torch():
    previous_t = torch.jit.set_fusion_strategy([("DYNAMIC", 3)])
    previous_c = cgrad.jit.set_fusion_strategy([("DYNAMIC", 3)])
    try:
        assert previous_c == previous_t == [("STATIC", 2), ("DYNAMIC", 10)]
        assert cgrad.jit.set_fusion_strategy([("STATIC", 1)]) == torch.jit.set_fusion_strategy([("STATIC", 1)]) \
            == [("DYNAMIC", 3)]
        for lib in (cgrad, torch):
            with pytest.raises(ValueError, match="FusionBehavior only supported 'STATIC' or 'DYNAMIC', got: FOO"):
                lib.jit.set_fusion_strategy([("FOO", 1)])
            with pytest.raises(TypeError, match="incompatible function arguments"):
                lib.jit.set_fusion_strategy("STATIC")
    finally:
        torch.jit.set_fusion_strategy(previous_t)
        cgrad.jit.set_fusion_strategy(previous_c)
    was_t, was_c = torch.jit.onednn_fusion_enabled(), cgrad.jit.onednn_fusion_enabled()
    try:
        assert cgrad.jit.enable_onednn_fusion(True) is torch.jit.enable_onednn_fusion(True) is None
        assert cgrad.jit.onednn_fusion_enabled() is torch.jit.onednn_fusion_enabled() is True
    finally:
        torch.jit.enable_onednn_fusion(was_t)
        cgrad.jit.enable_onednn_fusion(was_c)


def test_script_if_tracing_and_is_tracing():
    calls = []

    @cgrad.jit.script_if_tracing
    def helper(x):
        calls.append(cgrad.jit.is_tracing())
        return x * 2

    assert cgrad.equal(helper(cgrad.ones(1)), cgrad.full((1,), 2.0))

    def traced_body(x):
        return helper(x) + 1

    traced = cgrad.jit.trace(traced_body, cgrad.ones(2), check_trace=False)
    assert cgrad.equal(traced(cgrad.full((2,), 3.0)), cgrad.full((2,), 7.0))
    assert calls == [False, True]


@requires_torch
def test_public_names_match_torch():
    wanted = {"Attribute", "CompilationUnit", "Error", "Final", "Future", "RecursiveScriptModule", "ScriptFunction",
              "ScriptModule", "TopLevelTracedModule", "TracedModule", "TracerWarning", "TracingCheckError",
              "annotate", "enable_onednn_fusion", "export", "fork", "freeze", "ignore", "interface", "is_scripting",
              "is_tracing", "isinstance", "last_executed_optimized_graph", "load", "optimize_for_inference", "save",
              "script", "script_if_tracing", "set_fusion_strategy", "strict_fusion", "trace", "trace_module",
              "unused", "wait", "onednn_fusion_enabled", "fuser", "optimized_execution", "script_method"}
    assert wanted <= set(dir(torch.jit))
    missing = sorted(name for name in wanted if not hasattr(cgrad.jit, name))
    assert missing == []


def test_compilation_unit_refuses_source_text():
    with pytest.raises(RuntimeError, match="does not execute code given as a string"):
        cgrad.jit.CompilationUnit("def f(x):\n    return x + 1\n")
    assert cgrad.jit.CompilationUnit().get_functions() == []
    assert cgrad.jit.last_executed_optimized_graph() is None


def test_jit_is_a_lazy_attribute():
    import subprocess
    import sys
    code = "import sys, cgrad; assert 'cgrad.jit' not in sys.modules; cgrad.jit.script; print('ok')"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=".")
    assert out.stdout.strip() == "ok", out.stderr
