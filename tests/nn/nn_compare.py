"""Shared by the tests of tests/nn: calls run through torch and cgrad that
must fail the same way."""
import warnings


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
