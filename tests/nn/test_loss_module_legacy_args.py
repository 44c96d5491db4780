"""Loss modules' legacy size_average/reduce arguments (PyTorch's _Loss):
they set `reduction` with PyTorch's deprecation warning, for the existing
losses as for the new ones."""
import warnings

import numpy as np
import pytest

import cgrad
from helpers import requires_torch, torch

NAMES = ["MSELoss", "L1Loss", "NLLLoss", "CrossEntropyLoss", "BCELoss", "KLDivLoss", "SoftMarginLoss",
         "HingeEmbeddingLoss", "MarginRankingLoss", "PoissonNLLLoss", "MultiLabelSoftMarginLoss"]


@requires_torch
@pytest.mark.parametrize("legacy", [dict(size_average=False), dict(reduce=False), dict(size_average=True, reduce=True),
                                    dict(size_average=False, reduction="mean")])
@pytest.mark.parametrize("name", NAMES)
def test_legacy_arguments_set_reduction_as_torch(name, legacy):
    seen = []
    for lib in (torch, cgrad):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            module = getattr(lib.nn, name)(**legacy)
        seen.append((module.reduction, [str(m.message) for m in w]))
    assert seen[0] == seen[1]


@requires_torch
def test_legacy_reduction_is_used_in_forward():
    x = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    t = np.sign(np.random.default_rng(1).standard_normal((3, 4))).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mc, mt = cgrad.nn.SoftMarginLoss(reduce=False), torch.nn.SoftMarginLoss(reduce=False)
    oc, ot = mc(cgrad.tensor(x), cgrad.tensor(t)), mt(torch.tensor(x), torch.tensor(t))
    assert tuple(oc.shape) == tuple(ot.shape) == (3, 4)
    np.testing.assert_allclose(oc.numpy(), ot.numpy(), rtol=1e-6)


def _weighted_loss_facts(lib):
    from importlib import import_module
    loss = import_module(lib.__name__ + ".nn.modules.loss")

    class LabelSmoothingLoss(loss._WeightedLoss):       # the way scripts subclass it
        def forward(self, input, target):
            return lib.nn.functional.cross_entropy(input, target, weight=self.weight, reduction=self.reduction,
                                                   label_smoothing=0.1)
    names = ["BCELoss", "CrossEntropyLoss", "MultiLabelSoftMarginLoss", "MultiMarginLoss", "NLLLoss",
             "BCEWithLogitsLoss", "MSELoss"]
    custom = LabelSmoothingLoss(lib.tensor([1.0, 2.0, 3.0]), reduction="sum")
    value = custom(lib.tensor([[0.5, 1.0, -1.0], [2.0, 0.0, 1.0]]), lib.tensor([2, 0])).item()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        legacy = LabelSmoothingLoss(size_average=False).reduction
    try:
        lib.nn.CrossEntropyLoss(weight=[1, 2])
        refused = None
    except TypeError as error:
        refused = str(error).replace("cgrad", "torch")
    return ([n for n in names if issubclass(getattr(lib.nn, n), loss._WeightedLoss)],
            [n for n, _ in custom.named_buffers()], round(value, 5), legacy, refused,
            list(lib.nn.BCEWithLogitsLoss(weight=lib.ones(2), pos_weight=lib.ones(2)).state_dict()))


def test_weighted_loss_base_class():
    got = _weighted_loss_facts(cgrad)
    assert got[0] == ["BCELoss", "CrossEntropyLoss", "MultiLabelSoftMarginLoss", "MultiMarginLoss", "NLLLoss"]
    assert got[1] == ["weight"] and got[3] == "sum" and got[5] == ["weight", "pos_weight"]
    if torch is not None:
        assert got == _weighted_loss_facts(torch)
