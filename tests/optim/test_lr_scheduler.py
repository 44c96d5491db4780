"""cgrad.optim.lr_scheduler against torch.optim.lr_scheduler: both
libraries step the same schedule for many epochs and must produce the same
lr sequence exactly (the schedules are Python-float formulas), with the same
momentum cycling, state_dict contents, warnings and errors."""
import copy
import warnings

import numpy as np
import pytest

import cgrad
from helpers import requires_torch, torch


def make_opt(lib, name="SGD", groups=2, **kwargs):
    params = [{"params": [lib.zeros(2, requires_grad=True)], "lr": 0.1 * (i + 1)} for i in range(groups)]
    defaults = dict(lr=0.1, momentum=0.9) if name == "SGD" else dict(lr=0.1)
    defaults.update(kwargs)
    return getattr(lib.optim, name)(params, **defaults)


def lambda_factor(epoch):
    return 0.95 ** epoch


SCHEDULES = [
    ("StepLR", dict(step_size=3, gamma=0.5)),
    ("MultiStepLR", dict(milestones=[2, 5, 5, 9], gamma=0.3)),
    ("ExponentialLR", dict(gamma=0.93)),
    ("CosineAnnealingLR", dict(T_max=7, eta_min=0.001)),
    ("CosineAnnealingLR", dict(T_max=5)),
    ("CosineAnnealingWarmRestarts", dict(T_0=4, T_mult=2, eta_min=0.01)),
    ("CosineAnnealingWarmRestarts", dict(T_0=3)),
    ("LambdaLR", dict(lr_lambda=lambda_factor)),
    ("MultiplicativeLR", dict(lr_lambda=lambda e: 0.97)),
    ("LinearLR", dict(start_factor=0.25, end_factor=0.9, total_iters=6)),
    ("LinearLR", dict()),
    ("ConstantLR", dict(factor=0.5, total_iters=4)),
    ("PolynomialLR", dict(total_iters=8, power=2.0)),
    ("OneCycleLR", dict(max_lr=1.0, total_steps=30)),
    ("OneCycleLR", dict(max_lr=[0.5, 1.0], epochs=3, steps_per_epoch=10, anneal_strategy="linear",
                        three_phase=True, pct_start=0.25)),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=4)),
    ("CyclicLR", dict(base_lr=0.01, max_lr=[0.1, 0.2], step_size_up=3, step_size_down=5, mode="triangular2")),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=3, mode="exp_range", gamma=0.95)),
]


def lr_sequence(lib, name, kwargs, epochs=29, opt_name="SGD"):
    opt = make_opt(lib, opt_name)
    sched = getattr(lib.optim.lr_scheduler, name)(opt, **kwargs)
    seq = [list(sched.get_last_lr())]
    momenta = [[g.get("momentum", g.get("betas", (None,))[0]) for g in opt.param_groups]]
    for _ in range(epochs):
        opt.step()
        sched.step()
        seq.append(list(sched.get_last_lr()))
        momenta.append([g.get("momentum", g.get("betas", (None,))[0]) for g in opt.param_groups])
    assert seq[-1] == [g["lr"] for g in opt.param_groups]
    return seq, momenta, sched


@requires_torch
@pytest.mark.parametrize("name,kwargs", SCHEDULES)
def test_lr_sequence_equals_torch(name, kwargs):
    seq_c, mom_c, sched_c = lr_sequence(cgrad, name, kwargs)
    seq_t, mom_t, sched_t = lr_sequence(torch, name, kwargs)
    assert seq_c == seq_t
    assert mom_c == mom_t
    assert sched_c.last_epoch == sched_t.last_epoch


@requires_torch
@pytest.mark.parametrize("name,kwargs", [s for s in SCHEDULES if s[0] in ("OneCycleLR", "CyclicLR")])
def test_beta1_cycling_equals_torch(name, kwargs):
    seq_c, mom_c, _ = lr_sequence(cgrad, name, kwargs, opt_name="Adam")
    seq_t, mom_t, _ = lr_sequence(torch, name, kwargs, opt_name="Adam")
    assert seq_c == seq_t and mom_c == mom_t


@requires_torch
@pytest.mark.parametrize("name,kwargs", [s for s in SCHEDULES if s[0] in (
    "StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "LinearLR", "ConstantLR", "PolynomialLR",
    "CosineAnnealingWarmRestarts")])
def test_step_with_epoch_uses_closed_form_as_torch(name, kwargs):
    results = []
    for lib in (cgrad, torch):
        opt = make_opt(lib)
        sched = getattr(lib.optim.lr_scheduler, name)(opt, **kwargs)
        seq = []
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for epoch in [3, 1, 7, 12, 2, 5]:
                opt.step()
                sched.step(epoch)
                seq.append(sched.get_last_lr())
        results.append((seq, [str(w.message) for w in caught]))
    assert results[0] == results[1]


def sequential_and_chained(lib):
    opt = make_opt(lib)
    sch = lib.optim.lr_scheduler
    seq = sch.SequentialLR(opt, [sch.LinearLR(opt, start_factor=0.1, total_iters=3),
                                 sch.ExponentialLR(opt, gamma=0.9),
                                 sch.CosineAnnealingLR(opt, T_max=4)], milestones=[4, 9])
    out = [seq.get_last_lr()]
    for _ in range(15):
        opt.step()
        seq.step()
        out.append(seq.get_last_lr())
    opt2 = make_opt(lib)
    chained = sch.ChainedScheduler([sch.ConstantLR(opt2, factor=0.5, total_iters=3),
                                    sch.ExponentialLR(opt2, gamma=0.9)])
    out.append(chained.get_last_lr())
    for _ in range(8):
        opt2.step()
        chained.step()
        out.append(chained.get_last_lr())
    return out, seq.state_dict()["_milestones"], seq.last_epoch


@requires_torch
def test_sequential_and_chained_equal_torch():
    assert sequential_and_chained(cgrad) == sequential_and_chained(torch)


def plateau_run(lib, **kwargs):
    opt = make_opt(lib)
    sched = lib.optim.lr_scheduler.ReduceLROnPlateau(opt, **kwargs)
    metrics = [1.0, 0.9, 0.95, 0.95, 0.96, 0.97, 0.91, 0.99, 0.99, 0.99, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0] * 2
    out = []
    for m in metrics:
        opt.step()
        sched.step(m)
        out.append((sched.get_last_lr(), sched.num_bad_epochs, sched.cooldown_counter, sched.best))
    return out


@requires_torch
@pytest.mark.parametrize("kwargs", [dict(patience=2), dict(mode="max", factor=0.5, patience=1, cooldown=2),
                                    dict(threshold_mode="abs", threshold=0.05, patience=0, min_lr=[0.05, 0.01]),
                                    dict(patience=1, min_lr=0.03, eps=1e-3)])
def test_reduce_on_plateau_equals_torch(kwargs):
    assert plateau_run(cgrad, **kwargs) == plateau_run(torch, **kwargs)


@requires_torch
@pytest.mark.parametrize("name,kwargs", SCHEDULES)
def test_state_dict_round_trip(name, kwargs):
    opt = make_opt(cgrad)
    sched = getattr(cgrad.optim.lr_scheduler, name)(opt, **kwargs)
    for _ in range(5):
        opt.step()
        sched.step()
    state = copy.deepcopy(sched.state_dict())
    assert "optimizer" not in state
    t_opt = make_opt(torch)
    t_sched = getattr(torch.optim.lr_scheduler, name)(t_opt, **kwargs)
    for _ in range(5):
        t_opt.step()
        t_sched.step()
    assert sorted(state) == sorted(t_sched.state_dict())
    # resuming as a checkpoint does (build both, then load both) continues the sequence
    opt2 = make_opt(cgrad)
    sched2 = getattr(cgrad.optim.lr_scheduler, name)(opt2, **kwargs)
    opt2.load_state_dict(copy.deepcopy(opt.state_dict()))
    sched2.load_state_dict(state)
    for _ in range(6):
        opt.step()
        sched.step()
        opt2.step()
        sched2.step()
        assert sched2.get_last_lr() == sched.get_last_lr()


def test_scheduler_before_optimizer_warns_as_torch():
    opt = make_opt(cgrad)
    sched = cgrad.optim.lr_scheduler.StepLR(opt, 2)
    with pytest.warns(UserWarning, match=r"^Detected call of `lr_scheduler.step\(\)` before `optimizer.step\(\)`"):
        sched.step()
    opt = make_opt(cgrad)
    sched = cgrad.optim.lr_scheduler.StepLR(opt, 2)
    opt.step = lambda closure=None: None
    with pytest.warns(UserWarning, match=r"^Seems like `optimizer.step\(\)` has been overridden after learning"):
        sched.step()
    opt = make_opt(cgrad)
    sched = cgrad.optim.lr_scheduler.StepLR(opt, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt.step()
        sched.step()
        sched.step()
    with pytest.warns(UserWarning, match=r"^To get the last learning rate computed by the scheduler, please use"):
        sched.get_lr()
    with pytest.warns(UserWarning, match="^The epoch parameter in `scheduler.step\\(\\)` was not necessary"):
        sched.step(4)


@pytest.mark.parametrize("build,exc,message", [
    (lambda s, o: s.StepLR(object(), 2), TypeError, "object is not an Optimizer"),
    (lambda s, o: s.StepLR(o, 2, last_epoch=3), KeyError, "param 'initial_lr' is not specified in param_groups[0]"),
    (lambda s, o: s.LambdaLR(o, [lambda e: 1.0]), ValueError, "Expected 2 lr_lambdas, but got 1"),
    (lambda s, o: s.MultiplicativeLR(o, [1, 2]), TypeError, "lr_lambda should be a function, but got int"),
    (lambda s, o: s.ConstantLR(o, factor=2), ValueError,
     "Constant multiplicative factor expected to be between 0 and 1."),
    (lambda s, o: s.LinearLR(o, start_factor=0), ValueError,
     "Starting multiplicative factor expected to be greater than 0 and less or equal to 1."),
    (lambda s, o: s.LinearLR(o, end_factor=1.5), ValueError,
     "Ending multiplicative factor expected to be between 0 and 1."),
    (lambda s, o: s.CosineAnnealingWarmRestarts(o, T_0=0), ValueError, "Expected positive integer T_0, but got 0"),
    (lambda s, o: s.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=0), ValueError,
     "Expected integer T_mult >= 1, but got 0"),
    (lambda s, o: s.OneCycleLR(o, max_lr=1.0), ValueError,
     "You must define either total_steps OR (epochs AND steps_per_epoch)"),
    (lambda s, o: s.OneCycleLR(o, max_lr=1.0, total_steps=0), ValueError,
     "Expected positive integer total_steps, but got 0"),
    (lambda s, o: s.OneCycleLR(o, max_lr=1.0, total_steps=5, pct_start=1), ValueError,
     "Expected float between 0 and 1 pct_start, but got 1"),
    (lambda s, o: s.OneCycleLR(o, max_lr=[1.0], total_steps=5), ValueError,
     "max_lr must have the same length as optimizer.param_groups. max_lr has 1 values, param_groups has 2."),
    (lambda s, o: s.CyclicLR(o, 0.1, 1.0, mode="bogus"), ValueError, "mode is invalid and scale_fn is None"),
    (lambda s, o: s.ReduceLROnPlateau(o, factor=1.0), ValueError, "Factor should be < 1.0."),
    (lambda s, o: s.ReduceLROnPlateau(o, mode="mid"), ValueError, "mode mid is unknown!"),
    (lambda s, o: s.ReduceLROnPlateau(o, min_lr=[0.1]), ValueError, "expected 2 min_lrs, got 1"),
    (lambda s, o: s.SequentialLR(o, [s.StepLR(o, 2)], milestones=[3]), ValueError,
     "Sequential Schedulers expects number of schedulers provided to be one more than the number of milestone "
     "points, but got number of schedulers 1 and the number of milestones to be equal to 1"),
    (lambda s, o: s.ChainedScheduler([]), ValueError,
     "ChainedScheduler expects at least one scheduler to be chained, but got no scheduler."),
    (lambda s, o: s.SequentialLR(o, [s.ReduceLROnPlateau(o)], milestones=[]), ValueError,
     "SequentialLR does not support `ReduceLROnPlateau` scheduler"),
])
def test_errors_as_torch(build, exc, message):
    libs = [cgrad] + ([torch] if torch is not None else [])
    for lib in libs:
        with pytest.raises(exc) as err:
            build(lib.optim.lr_scheduler, make_opt(lib))
        assert message in str(err.value), lib.__name__


@requires_torch
def test_onecycle_past_total_steps_raises_as_torch():
    for lib in (cgrad, torch):
        opt = make_opt(lib)
        sched = lib.optim.lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=3)
        for _ in range(3):
            opt.step()
            sched.step()
        with pytest.raises(ValueError, match="^Tried to step 4 times. The specified number of total steps is 3$"):
            opt.step()
            sched.step()


def test_optimizer_step_keeps_working_after_wrapping():
    p = cgrad.tensor([1.0], requires_grad=True)
    opt = cgrad.optim.SGD([p], lr=0.5)
    cgrad.optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)
    assert hasattr(opt.step, "_wrapped_by_lr_sched")
    (p * 2).sum().backward()
    opt.step()
    assert p.item() == 0.0 and opt._opt_called
    assert isinstance(cgrad.optim.lr_scheduler.ExponentialLR(opt, 0.5), cgrad.optim.lr_scheduler.LRScheduler)
