"""PyTorch's deprecated beta-first overloads of addmm, addmv, addr, addbmm
and baddbmm (`torch.addmm(beta, M, alpha, m1, m2)`, `M.addmm_(beta, m1,
m2)`; src/cgrad/tensor/deprecated_overloads.pxi): values, gradients, the
one warning per process (shared with add's and addcmul's) and its text
for each form, and the errors of calls that match no form. Also addmm's
out=, which was ignored. Without torch the values are checked against
numpy and the texts against PyTorch's as recorded here."""
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import cgrad
from tests.helpers import requires_torch, torch

RNG = np.random.default_rng(15)
M = RNG.standard_normal((2, 3)).astype(np.float32)
A = RNG.standard_normal((2, 4)).astype(np.float32)
B = RNG.standard_normal((4, 3)).astype(np.float32)
V = RNG.standard_normal(4).astype(np.float32)
X2 = RNG.standard_normal(2).astype(np.float32)
Y3 = RNG.standard_normal(3).astype(np.float32)
B1 = RNG.standard_normal((5, 2, 4)).astype(np.float32)
B2 = RNG.standard_normal((5, 4, 3)).astype(np.float32)
C = RNG.standard_normal((5, 2, 3)).astype(np.float32)

# (expression, beta * input + alpha * product by hand)
FORMS = [
    ("lib.addmm(2, m, 3, a, b)", 2 * M + 3 * (A @ B)),
    ("lib.addmm(0.5, m, a, b)", 0.5 * M + A @ B),
    ("m.addmm(2, -1.5, a, b)", 2 * M - 1.5 * (A @ B)),
    ("m.addmm(2, a, b)", 2 * M + A @ B),
    ("m.clone().addmm_(2, 3, a, b)", 2 * M + 3 * (A @ B)),
    ("m.clone().addmm_(0, a, b)", A @ B),
    ("lib.addmv(2, x2, 3, a, v)", 2 * X2 + 3 * (A @ V)),
    ("lib.addmv(2, x2, a, v)", 2 * X2 + A @ V),
    ("x2.addmv(2, 3, a, v)", 2 * X2 + 3 * (A @ V)),
    ("x2.clone().addmv_(2, a, v)", 2 * X2 + A @ V),
    ("lib.addr(2, m, 3, x2, y3)", 2 * M + 3 * np.outer(X2, Y3)),
    ("lib.addr(2, m, x2, y3)", 2 * M + np.outer(X2, Y3)),
    ("m.addr(2, 3, x2, y3)", 2 * M + 3 * np.outer(X2, Y3)),
    ("m.clone().addr_(2, x2, y3)", 2 * M + np.outer(X2, Y3)),
    ("lib.addbmm(2, m, 3, b1, b2)", 2 * M + 3 * (B1 @ B2).sum(0)),
    ("lib.addbmm(2, m, b1, b2)", 2 * M + (B1 @ B2).sum(0)),
    ("m.addbmm(2, 3, b1, b2)", 2 * M + 3 * (B1 @ B2).sum(0)),
    ("m.clone().addbmm_(2, b1, b2)", 2 * M + (B1 @ B2).sum(0)),
    ("lib.baddbmm(2, c, 3, b1, b2)", 2 * C + 3 * (B1 @ B2)),
    ("lib.baddbmm(2, c, b1, b2)", 2 * C + B1 @ B2),
    ("c.baddbmm(2, b1, b2)", 2 * C + B1 @ B2),
    ("c.clone().baddbmm_(2, 3, b1, b2)", 2 * C + 3 * (B1 @ B2)),
    ("lib.addmm(True, m, a, b)", M + A @ B),
]


def scope(lib):
    names = dict(m=M, a=A, b=B, v=V, x2=X2, y3=Y3, b1=B1, b2=B2, c=C)
    return {"lib": lib, **{k: lib.tensor(x) for k, x in names.items()}}


@pytest.mark.filterwarnings("ignore:This overload of")
@pytest.mark.parametrize("expression, expected", FORMS, ids=[e for e, _ in FORMS])
def test_beta_first_values(expression, expected):
    ours = eval(expression, scope(cgrad))
    assert ours.dtype == cgrad.float32
    np.testing.assert_allclose(ours.numpy(), expected, rtol=1e-5, atol=1e-5)
    if torch is not None:
        theirs = eval(expression, scope(torch))
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6, atol=1e-6)


@pytest.mark.filterwarnings("ignore:This overload of")
def test_beta_first_gradients():
    m, a, b = (cgrad.tensor(x.astype(np.float64), requires_grad=True) for x in (M, A, B))
    assert cgrad.addmm(0.5, m, -2, a, b).grad_fn.name() == "AddmmBackward0"
    assert cgrad.autograd.gradcheck(lambda m, a, b: cgrad.addmm(0.5, m, -2, a, b), (m, a, b))
    assert cgrad.autograd.gradcheck(lambda m, a, b: m.addmm(3, a, b), (m, a, b))
    x, v = (cgrad.tensor(y.astype(np.float64), requires_grad=True) for y in (X2, V))
    assert cgrad.autograd.gradcheck(lambda x, a, v: cgrad.addmv(2, x, 0.5, a, v), (x, a, v))
    c, b1, b2 = (cgrad.tensor(y.astype(np.float64), requires_grad=True) for y in (C, B1, B2))
    assert cgrad.autograd.gradcheck(lambda c, b1, b2: c.baddbmm(2, -1, b1, b2), (c, b1, b2))


# the warning of the first deprecated call in a process, as PyTorch 2.13 words it
WARNINGS = [
    ("lib.addmm(2, m, 3, a, b)",
     "This overload of addmm is deprecated:\n\taddmm(Number beta, Tensor input, Number alpha, Tensor mat1, "
     "Tensor mat2, *, Tensor out = None)\nConsider using one of the following signatures instead:\n"
     "\taddmm(Tensor input, Tensor mat1, Tensor mat2, *, Number beta = 1, Number alpha = 1, Tensor out = None)\n"
     "\taddmm(Tensor input, Tensor mat1, Tensor mat2, torch.dtype out_dtype, *, Number beta = 1, "
     "Number alpha = 1, Tensor out = None)"),
    ("m.clone().addmm_(2, a, b)",
     "This overload of addmm_ is deprecated:\n\taddmm_(Number beta, Tensor mat1, Tensor mat2)\n"
     "Consider using one of the following signatures instead:\n"
     "\taddmm_(Tensor mat1, Tensor mat2, *, Number beta = 1, Number alpha = 1)"),
    ("lib.addmv(2, x2, a, v)",
     "This overload of addmv is deprecated:\n\taddmv(Number beta, Tensor input, Tensor mat, Tensor vec, *, "
     "Tensor out = None)\nConsider using one of the following signatures instead:\n"
     "\taddmv(Tensor input, Tensor mat, Tensor vec, *, Number beta = 1, Number alpha = 1, Tensor out = None)"),
    ("m.addr(2, 3, x2, y3)",
     "This overload of addr is deprecated:\n\taddr(Number beta, Number alpha, Tensor vec1, Tensor vec2)\n"
     "Consider using one of the following signatures instead:\n"
     "\taddr(Tensor vec1, Tensor vec2, *, Number beta = 1, Number alpha = 1)"),
    ("c.baddbmm(2, b1, b2)",
     "This overload of baddbmm is deprecated:\n\tbaddbmm(Number beta, Tensor batch1, Tensor batch2)\n"
     "Consider using one of the following signatures instead:\n"
     "\tbaddbmm(Tensor batch1, Tensor batch2, *, Number beta = 1, Number alpha = 1)"),
    ("lib.addbmm(2, m, 3, b1, b2); m.add(2, m)",
     "This overload of addbmm is deprecated:\n\taddbmm(Number beta, Tensor input, Number alpha, Tensor batch1, "
     "Tensor batch2, *, Tensor out = None)\nConsider using one of the following signatures instead:\n"
     "\taddbmm(Tensor input, Tensor batch1, Tensor batch2, *, Number beta = 1, Number alpha = 1, "
     "Tensor out = None)"),
]

WARN_CODE = textwrap.dedent("""
    import warnings, sys
    import numpy as np
    lib = __import__(sys.argv[1])
    r = np.random.default_rng(0)
    m, a, b, v, x2, y3 = (lib.tensor(r.random(s)) for s in ((2, 3), (2, 4), (4, 3), 4, 2, 3))
    b1, b2, c = (lib.tensor(r.random(s)) for s in ((5, 2, 4), (5, 4, 3), (5, 2, 3)))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        EXPR
        EXPR
    print(repr([(w.category.__name__, str(w.message).split(" (Triggered internally")[0]) for w in caught]))
""")


@pytest.mark.parametrize("expression, text", WARNINGS, ids=[e for e, _ in WARNINGS])
def test_one_warning_per_process_with_pytorchs_text(expression, text):
    code = WARN_CODE.replace("EXPR", expression)
    ours = subprocess.run([sys.executable, "-c", code, "cgrad"], capture_output=True, text=True, check=True).stdout
    assert ours.strip() == repr([("UserWarning", text)])
    if torch is not None:
        theirs = subprocess.run([sys.executable, "-c", code, "torch"], capture_output=True, text=True,
                                check=True).stdout
        assert ours == theirs


COMBINATIONS = ("but expected one of:\n * (Tensor input, Tensor mat1, Tensor mat2, *, Number beta = 1, "
                "Number alpha = 1, Tensor out = None)\n * (Tensor input, Tensor mat1, Tensor mat2, "
                "torch.dtype out_dtype, *, Number beta = 1, Number alpha = 1, Tensor out = None)\n")
ERRORS = [
    ("lib.addmm(2, m, 3, a)", "addmm() received an invalid combination of arguments - got (int, Tensor, int, "
                              "Tensor), " + COMBINATIONS),
    ("lib.addmm(2, m, 3, a, b, alpha=2)", "addmm() received an invalid combination of arguments - got (int, "
                                          "Tensor, int, Tensor, Tensor, alpha=int), " + COMBINATIONS),
    ("lib.addmm(2, m, a, b, beta=3)", "addmm() received an invalid combination of arguments - got (int, "
                                      "Tensor, Tensor, Tensor, beta=int), " + COMBINATIONS),
    ("lib.addmm(m, a, b, 2)", "addmm() received an invalid combination of arguments - got (Tensor, Tensor, "
                              "Tensor, int), " + COMBINATIONS),
    ("m.addmm(2, 3, a)", "addmm() takes 2 positional arguments but 3 were given"),
    ("m.addmm(2, a, b, beta=2)", "addmm() takes 2 positional arguments but 3 were given"),
    ("lib.addmv(2, x2, 3, a)", "addmv() takes 3 positional arguments but 4 were given"),
    ("x2.addmv(2, a, v, alpha=3)", "addmv() takes 2 positional arguments but 3 were given"),
    ("lib.addr(m, x2, y3, 2)", "addr() takes 3 positional arguments but 4 were given"),
]


@pytest.mark.filterwarnings("ignore:This overload of")
@pytest.mark.parametrize("expression, text", ERRORS, ids=[e for e, _ in ERRORS])
def test_beta_first_errors(expression, text):
    with pytest.raises(TypeError) as ours:
        eval(expression, scope(cgrad))
    assert str(ours.value) == text
    if torch is not None:
        with pytest.raises(TypeError) as theirs:
            eval(expression, scope(torch))
        assert str(theirs.value) == text


@pytest.mark.filterwarnings("ignore:This overload of")
@pytest.mark.parametrize("expression", ["lib.addmm(m, a, b, beta=0.5, out=o)", "lib.addmm(0.5, m, a, b, out=o)"])
def test_addmm_out(expression):
    names = scope(cgrad)
    names["o"] = cgrad.empty(2, 3)
    result = eval(expression, names)
    assert result is names["o"]
    np.testing.assert_allclose(names["o"].numpy(), 0.5 * M + A @ B, rtol=1e-5, atol=1e-5)


@requires_torch
def test_addmm_out_with_grad_error():
    def call(lib):
        m = lib.tensor(M, requires_grad=True)
        return lib.addmm(m, lib.tensor(A), lib.tensor(B), out=lib.empty(2, 3))
    with pytest.raises(RuntimeError) as theirs:
        call(torch)
    with pytest.raises(RuntimeError) as ours:
        call(cgrad)
    assert str(ours.value) == str(theirs.value)
