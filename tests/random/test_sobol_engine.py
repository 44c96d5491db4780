"""cgrad.quasirandom.SobolEngine against torch.quasirandom.SobolEngine:
direction numbers, points (bit for bit, float32 and float64), fast_forward,
reset, draw_base2, out=, scrambling (seeded and from the global generator),
errors. Without torch: the sequence's known first points, its base-2
balance, scipy's unscrambled Sobol points when scipy is importable, and the
shipped table against tools/gen_sobol_table.py."""
import importlib.util
import os
import subprocess
import sys

import numpy as np
import pytest

import cgrad
from cgrad.quasirandom import SobolEngine
from helpers import requires_torch, torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _assert_same(got, expected):
    assert str(got.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1]
    assert np.array_equal(got.numpy(), expected.numpy())


def _outcome(function):
    try:
        value = function()
        return ("value", value.numpy().tolist() if hasattr(value, "numpy") else value)
    except Exception as error:      # the outcome is what is compared
        return ("raise", type(error), str(error))


ENGINE_KINDS = [dict(), dict(scramble=True, seed=0), dict(scramble=True, seed=2024)]


@requires_torch
@pytest.mark.parametrize("dimension", [1, 2, 7, 1111, 21201])
@pytest.mark.parametrize("kind", ENGINE_KINDS, ids=["plain", "seed0", "seed2024"])
def test_points_match_torch(dimension, kind):
    mine, theirs = SobolEngine(dimension, **kind), torch.quasirandom.SobolEngine(dimension, **kind)
    assert np.array_equal(mine.sobolstate.numpy(), theirs.sobolstate.numpy())
    assert np.array_equal(mine.shift.numpy(), theirs.shift.numpy())
    _assert_same(mine.draw(), theirs.draw())
    _assert_same(mine.draw(6), theirs.draw(6))
    _assert_same(mine.draw(9, dtype=cgrad.float64), theirs.draw(9, dtype=torch.float64))
    mine.fast_forward(21)
    theirs.fast_forward(21)
    _assert_same(mine.draw(5), theirs.draw(5))
    mine.reset()
    theirs.reset()
    _assert_same(mine.draw(3, dtype=cgrad.float64), theirs.draw(3, dtype=torch.float64))
    mine.reset().fast_forward(4)
    theirs.reset().fast_forward(4)
    _assert_same(mine.draw(4), theirs.draw(4))
    assert mine.num_generated == theirs.num_generated and repr(mine) == repr(theirs)


@requires_torch
def test_long_runs_and_base2_match_torch():
    mine, theirs = SobolEngine(3, scramble=True, seed=5), torch.quasirandom.SobolEngine(3, scramble=True, seed=5)
    _assert_same(mine.draw_base2(12), theirs.draw_base2(12))
    _assert_same(mine.draw_base2(12), theirs.draw_base2(12))
    mine.fast_forward(100_000)
    theirs.fast_forward(100_000)
    _assert_same(mine.draw(1000, dtype=cgrad.float64), theirs.draw(1000, dtype=torch.float64))


@requires_torch
def test_random_draw_sequences_match_torch():
    """Draws, fast-forwards and resets of many lengths, so draws start and end
    on both sides of every power of two (the blocks of the closed form)."""
    rng = np.random.RandomState(1)
    lengths = [0, 1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 31, 33, 100, 255, 257, 1000, 1025]
    for _ in range(25):
        dimension = int(rng.randint(1, 40))
        kind = dict(scramble=bool(rng.randint(2)), seed=int(rng.randint(100)))
        mine, theirs = SobolEngine(dimension, **kind), torch.quasirandom.SobolEngine(dimension, **kind)
        for _ in range(8):
            action, n = rng.randint(3), int(rng.choice(lengths))
            if action == 0 and not (n == 0 and mine.num_generated == 0):
                _assert_same(mine.draw(n, dtype=cgrad.float64), theirs.draw(n, dtype=torch.float64))
            elif action == 1:
                mine.fast_forward(n)
                theirs.fast_forward(n)
            elif action == 2:
                mine.reset()
                theirs.reset()
            assert np.array_equal(mine.quasi.numpy(), theirs.quasi.numpy())


@requires_torch
def test_scrambling_from_the_global_generator_matches_torch():
    cgrad.manual_seed(11)
    torch.manual_seed(11)
    mine, theirs = SobolEngine(6, scramble=True), torch.quasirandom.SobolEngine(6, scramble=True)
    _assert_same(mine.draw(50), theirs.draw(50))
    _assert_same(cgrad.rand(4), torch.rand(4))       # both streams advanced alike


@requires_torch
def test_first_point_keeps_the_construction_default_dtype():
    """PyTorch computes the first point at construction in the default dtype:
    a float64 draw of a scrambled engine's first point has float32's precision."""
    mine, theirs = SobolEngine(4, scramble=True, seed=1), torch.quasirandom.SobolEngine(4, scramble=True, seed=1)
    _assert_same(mine.draw(3, dtype=cgrad.float64), theirs.draw(3, dtype=torch.float64))
    previous = cgrad.get_default_dtype(), torch.get_default_dtype()
    cgrad.set_default_dtype(cgrad.float64)
    torch.set_default_dtype(torch.float64)
    try:
        mine, theirs = SobolEngine(4, scramble=True, seed=1), torch.quasirandom.SobolEngine(4, scramble=True, seed=1)
        _assert_same(mine.draw(3), theirs.draw(3))
    finally:
        cgrad.set_default_dtype(previous[0])
        torch.set_default_dtype(previous[1])


@requires_torch
def test_out_matches_torch():
    for out_dtype, dtype in [("float32", None), ("float64", "float32"), ("int64", None)]:
        mine_out = cgrad.empty(0, dtype=getattr(cgrad, out_dtype))
        theirs_out = torch.empty(0, dtype=getattr(torch, out_dtype))
        mine = SobolEngine(2).draw(3, out=mine_out, dtype=dtype and getattr(cgrad, dtype))
        theirs = torch.quasirandom.SobolEngine(2).draw(3, out=theirs_out, dtype=dtype and getattr(torch, dtype))
        assert mine is mine_out and theirs is theirs_out
        _assert_same(mine, theirs)


@requires_torch
def test_errors_match_torch():
    cases = [
        lambda m: m.quasirandom.SobolEngine(0),
        lambda m: m.quasirandom.SobolEngine(21202),
        lambda m: m.quasirandom.SobolEngine(3).draw(0),
        lambda m: m.quasirandom.SobolEngine(3).draw(-1),
        lambda m: m.quasirandom.SobolEngine(3).draw(2.0),
        lambda m: m.quasirandom.SobolEngine(3).draw(2, dtype=m.float16),
        lambda m: m.quasirandom.SobolEngine(3).draw(1, dtype=m.float16),
        lambda m: m.quasirandom.SobolEngine(3).draw(2, dtype=m.int64),
        lambda m: m.quasirandom.SobolEngine(3).fast_forward(2.0),
        lambda m: m.quasirandom.SobolEngine(3).fast_forward(0).num_generated,
        lambda m: m.quasirandom.SobolEngine(3).draw(3).shape[0],
        lambda m: m.quasirandom.SobolEngine(3).draw_base2(-1),
        lambda m: (lambda e: (e.draw_base2(2), e.draw_base2(1)))(m.quasirandom.SobolEngine(3)),
    ]
    for case in cases:
        assert _outcome(lambda: case(cgrad)) == _outcome(lambda: case(torch))


def test_known_points_without_torch():
    engine = SobolEngine(dimension=5)
    assert engine.draw(3).numpy().tolist() == [[0.0] * 5, [0.5] * 5, [0.75, 0.25, 0.25, 0.25, 0.75]]
    assert engine.draw().dtype == cgrad.float32 and engine.num_generated == 4
    ahead = SobolEngine(5).fast_forward(3)
    assert np.array_equal(ahead.draw().numpy(), SobolEngine(5).draw(4).numpy()[3:])


def test_base2_blocks_are_balanced():
    """Every 2**m block of a Sobol sequence puts one point in each interval
    [k/2**m, (k+1)/2**m) of every coordinate, scrambled or not."""
    for engine in (SobolEngine(40), SobolEngine(40, scramble=True, seed=3)):
        points = engine.draw_base2(8, dtype=cgrad.float64).numpy()
        cells = np.sort(np.floor(points * 256).astype(np.int64), axis=0)
        assert np.array_equal(cells, np.repeat(np.arange(256)[:, None], 40, axis=1))
    with pytest.raises(ValueError, match="The balance properties of Sobol' points require n to be a power of 2"):
        engine.draw_base2(2)


def test_seeded_scrambling_repeats_and_differs_by_seed():
    first = SobolEngine(3, scramble=True, seed=9).draw(8).numpy()
    assert np.array_equal(first, SobolEngine(3, scramble=True, seed=9).draw(8).numpy())
    assert not np.array_equal(first, SobolEngine(3, scramble=True, seed=10).draw(8).numpy())
    assert repr(SobolEngine(3, scramble=True, seed=9)) == "SobolEngine(dimension=3, scramble=True, seed=9)"


def test_points_match_scipy_unscrambled():
    if "torch" in sys.modules and sys.modules["torch"] is None:
        pytest.skip("torch is blocked (--without-torch), which scipy's array API layer cannot handle")
    qmc = pytest.importorskip("scipy.stats.qmc", reason="scipy (a second oracle) not installed")
    for dimension in (3, 500, 21201):
        expected = qmc.Sobol(dimension, scramble=False).random(64)
        assert np.array_equal(SobolEngine(dimension).draw(64, dtype=cgrad.float64).numpy(), expected)


def test_shipped_table_is_current():
    if importlib.util.find_spec("scipy") is None:     # (found, not imported: the check runs in a subprocess)
        pytest.skip("scipy (the table's source) not installed")
    check = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "gen_sobol_table.py"), "--check"],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
