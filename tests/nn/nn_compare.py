"""Shared by the tests of tests/nn: calls run through torch and cgrad that
must fail the same way."""
import re
import warnings


def error_of(lib, fn):
    """(exception type name, text with "torch." read as "cgrad.") of fn(lib),
    or None when it does not raise; warnings silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            fn(lib)
        except Exception as e:  # noqa: BLE001 - the exception is the result
            return type(e).__name__, re.sub(r"\btorch\.", "cgrad.", str(e))
    return None


def assert_same_errors(calls, torch, cgrad):
    """Each call(lib) raises in torch; cgrad raises the same exception type
    with the same text ("torch." read as "cgrad.")."""
    for k, call in enumerate(calls):
        results = []
        for lib in (torch, cgrad):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    call(lib)
                results.append(None)
            except Exception as e:  # noqa: BLE001 (type and text are compared)
                results.append((type(e).__name__, str(e).replace("torch.", "cgrad.")))
        assert results[0] is not None, f"call {k}: torch raised nothing"
        assert results[1] == results[0], f"call {k}"


def assert_error(call, kind, text, torch, cgrad):
    """call(cgrad) raises kind with text ("torch." read as "cgrad."); so does
    call(torch) when torch is installed (the recorded text checks cgrad
    without it)."""
    import pytest
    for lib in (cgrad, torch):
        if lib is None:
            continue
        with pytest.raises(Exception) as caught:
            call(lib)
        assert (type(caught.value).__name__, str(caught.value).replace("torch.", "cgrad.")) == (kind, text)
