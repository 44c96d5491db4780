"""The thread-local modes the per-op code tests through a global count of
the threads that have them on (inference mode, anomaly mode, saved-tensor
hooks): each thread still sees its own mode, whatever the others do, and the
count follows nested and repeated switches, including a thread that ends
with its mode still on."""
import threading
import warnings

import numpy as np
import pytest

import cgrad


def run_in_thread(fn):
    result = {}

    def target():
        try:
            result["value"] = fn()
        except BaseException as exc:      # re-raised in the caller
            result["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in result:
        raise result["error"]
    return result.get("value")


def test_inference_mode_of_another_thread_is_not_seen():
    started = threading.Event()
    release = threading.Event()

    def hold_inference_mode():
        with cgrad.inference_mode():
            started.set()
            release.wait(10)

    thread = threading.Thread(target=hold_inference_mode)
    thread.start()
    started.wait(10)
    try:
        t = cgrad.ones(3) * 2
        assert not t.is_inference()
        with cgrad.inference_mode():
            assert (cgrad.ones(3) * 2).is_inference()
        assert not (cgrad.ones(3) + 1).is_inference()
    finally:
        release.set()
        thread.join()
    assert not (cgrad.ones(3) + 1).is_inference()


def test_a_thread_ending_in_inference_mode_leaves_others_as_they_were():
    def leave_mode_on():
        cgrad._C._set_inference_mode(True)
        return (cgrad.ones(2) * 3).is_inference()

    assert run_in_thread(leave_mode_on) is True
    assert not cgrad.is_inference_mode_enabled()
    x = cgrad.ones(2, requires_grad=True)
    y = x * 3
    assert not y.is_inference()
    assert y.grad_fn.name() == "MulBackward0"
    with cgrad.inference_mode():
        assert (x * 3).is_inference()
        with cgrad.inference_mode(False):
            assert not (x * 3).is_inference()
        assert (x * 3).is_inference()
    assert not (x * 3).is_inference()


def test_repeated_switches_keep_the_mode_exact():
    for _ in range(3):
        cgrad._C._set_inference_mode(True)
        cgrad._C._set_inference_mode(True)       # twice on, once off: off
        cgrad._C._set_inference_mode(False)
        assert not (cgrad.ones(2) + 1).is_inference()
    with cgrad.inference_mode():
        assert (cgrad.ones(2) + 1).is_inference()


def test_anomaly_mode_is_per_thread():
    x = cgrad.tensor([0., 1.], requires_grad=True)

    def forward_in_anomaly_mode():
        with cgrad.autograd.set_detect_anomaly(True):
            y = x * 2
            return "traceback_" in y.grad_fn.metadata

    assert run_in_thread(forward_in_anomaly_mode) is True
    assert not cgrad.is_anomaly_enabled()
    y = x * 2
    assert "traceback_" not in y.grad_fn.metadata
    with cgrad.autograd.set_detect_anomaly(True):
        with cgrad.autograd.set_detect_anomaly(True):
            z = x * 2
        assert cgrad.is_anomaly_enabled()
        w = x * 2
    assert not cgrad.is_anomaly_enabled()
    assert "traceback_" in z.grad_fn.metadata and "traceback_" in w.grad_fn.metadata
    assert "traceback_" not in (x * 2).grad_fn.metadata


def test_anomaly_mode_still_checks_backward_after_other_threads_switch():
    def switch_on_and_off():
        cgrad._C._set_anomaly_enabled(True)
        cgrad._C._set_anomaly_enabled(False)

    run_in_thread(switch_on_and_off)
    x = cgrad.tensor([0., 1.], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with cgrad.autograd.detect_anomaly():
            y = x / x
            with pytest.raises(RuntimeError, match="returned nan values"):
                y.sum().backward()
    x.grad = None
    (x * 2).sum().backward()      # anomaly mode off again: no check, no error
    np.testing.assert_array_equal(x.grad.numpy(), [2., 2.])


def test_saved_tensor_hooks_of_another_thread_are_not_run():
    packed = []
    started = threading.Event()
    release = threading.Event()

    def hold_hooks():
        with cgrad.autograd.graph.saved_tensors_hooks(lambda t: (packed.append("other"), t)[1], lambda t: t):
            started.set()
            release.wait(10)

    thread = threading.Thread(target=hold_hooks)
    thread.start()
    started.wait(10)
    try:
        x = cgrad.tensor([1., 2.], requires_grad=True)
        y = x.exp()
        assert packed == []
        with cgrad.autograd.graph.saved_tensors_hooks(lambda t: (packed.append("mine"), t)[1], lambda t: t):
            z = x.exp()
        assert packed == ["mine"]
    finally:
        release.set()
        thread.join()
    (y.sum() + z.sum()).backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.exp([1., 2.]), rtol=1e-6)


def test_in_place_op_under_hooks_packs_once():
    packed = []
    x = cgrad.tensor([1., 2.], requires_grad=True)
    with cgrad.autograd.graph.saved_tensors_hooks(lambda t: (packed.append(1), t)[1], lambda t: t):
        y = x * 1
        y.relu_()     # saves its result: the out-of-place step's save is not packed
        assert len(packed) == 1
        z = x.exp()   # the hooks stay on after the in-place op
        assert len(packed) == 2
    w = x.exp()
    assert len(packed) == 2
    (y.sum() + z.sum() + w.sum()).backward()
    np.testing.assert_allclose(x.grad.numpy(), 1 + 2 * np.exp([1., 2.]), rtol=1e-6)
