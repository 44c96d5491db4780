"""state_dict()._metadata and _load_from_state_dict's signature, against
torch: every module's format version is recorded under its prefix
(BatchNorm's is 2), load_state_dict hands each module its metadata, and a
BatchNorm checkpoint of version 1 or without metadata (older pretrained
weights, which lack num_batches_tracked) loads and keeps the module's
counter, while a version-2 one missing it is refused. Also Adam's param_groups carry
decoupled_weight_decay as torch's do."""
from collections import OrderedDict

import pytest

import cgrad
from tests.helpers import requires_torch, torch


def _model(lib):
    nn = lib.nn
    return nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2)),
                         nn.InstanceNorm2d(2, track_running_stats=True))


def _metadata(lib):
    return {k: dict(v) for k, v in _model(lib).state_dict()._metadata.items()}


def _load(lib, drop_counters, metadata):
    m = _model(lib)
    sd = m.state_dict()
    for k in [k for k in sd if k.endswith("num_batches_tracked")]:
        m.get_submodule(k.rsplit(".", 1)[0]).num_batches_tracked.fill_(5)
    if drop_counters:
        sd = OrderedDict((k, v) for k, v in sd.items() if not k.endswith("num_batches_tracked"))
    if metadata is not None:
        sd._metadata = OrderedDict((k, {"version": metadata}) for k in ("", "0", "1", "2", "2.0", "2.1", "3"))
    before = dict(sd)
    try:
        result = m.load_state_dict(sd)
    except RuntimeError as e:
        return "error", str(e).replace("torch.", "cgrad.")
    assert dict(sd).keys() == before.keys()         # the caller's dict is not changed
    return (repr(result), [int(m[1].num_batches_tracked), int(m[2][1].num_batches_tracked),
                           int(m[3].num_batches_tracked)])


def test_metadata_without_torch():
    meta = _metadata(cgrad)
    assert meta == {"": {"version": 1}, "0": {"version": 1}, "1": {"version": 2}, "2": {"version": 1},
                    "2.0": {"version": 1}, "2.1": {"version": 2}, "3": {"version": 2}}
    assert _load(cgrad, True, None) == ("<All keys matched successfully>", [5, 5, 5])
    assert _load(cgrad, True, 1) == ("<All keys matched successfully>", [5, 5, 5])
    error = _load(cgrad, True, 2)
    assert error[0] == "error" and 'Missing key(s) in state_dict: "1.num_batches_tracked"' in error[1]


@requires_torch
def test_metadata_matches_torch():
    assert _metadata(cgrad) == _metadata(torch)


@requires_torch
@pytest.mark.parametrize("drop_counters", [False, True])
@pytest.mark.parametrize("metadata", [None, 1, 2])
def test_old_checkpoints_load_as_torch(drop_counters, metadata):
    assert _load(cgrad, drop_counters, metadata) == _load(torch, drop_counters, metadata)


@requires_torch
def test_state_dict_hooks_and_overrides_get_local_metadata():
    seen = {}
    for lib in (torch, cgrad):
        class Renamed(lib.nn.Linear):
            def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                                      unexpected_keys, error_msgs):
                # the usual override: accept an old name of the weight
                old = prefix + "w"
                if old in state_dict:
                    state_dict[prefix + "weight"] = state_dict.pop(old)
                seen.setdefault(lib.__name__, []).append(dict(local_metadata))
                super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys,
                                              unexpected_keys, error_msgs)

        m = lib.nn.Sequential(Renamed(2, 2))
        sd = m.state_dict()
        sd["0.w"] = sd.pop("0.weight") * 0 + 3
        m.load_state_dict(sd, assign=True)
        assert m[0].weight.tolist() == [[3.0, 3.0], [3.0, 3.0]]
        hooked = []
        m[0].register_state_dict_post_hook(lambda mod, dest, prefix, meta: hooked.append(dict(meta)))
        m.state_dict()
        seen[lib.__name__ + "_hook"] = hooked
    assert seen["cgrad"] == seen["torch"]
    assert seen["cgrad_hook"] == seen["torch_hook"] == [{"version": 1}]


@requires_torch
@pytest.mark.parametrize("name,kwargs", [("Adam", {}), ("Adam", {"decoupled_weight_decay": True}),
                                         ("AdamW", {}), ("Adam", {"amsgrad": True})])
def test_adam_param_group_keys(name, kwargs):
    groups = []
    for lib in (torch, cgrad):
        p = [lib.nn.Parameter(lib.ones(2))]
        opt = getattr(lib.optim, name)(p, **kwargs)
        groups.append({k: v for k, v in opt.state_dict()["param_groups"][0].items()})
    assert groups[1] == groups[0]

