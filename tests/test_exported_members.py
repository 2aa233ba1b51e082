"""The public API is exactly what ``__all__`` says, and every name in it is documented."""

from __future__ import annotations

import types

import httpsaudit


def test_all_matches_public_names() -> None:
    public = {
        name
        for name, value in vars(httpsaudit).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    exported = set(httpsaudit.__all__) - {"__version__"}
    # Submodules become attributes on import; every other public name must be exported.
    assert public - {"annotations"} == exported
    for name in exported:
        assert hasattr(httpsaudit, name), name


def test_exported_objects_have_docstrings() -> None:
    for name in httpsaudit.__all__:
        if name == "__version__":
            continue
        assert getattr(httpsaudit, name).__doc__, name


def test_library_scan_of_an_unreachable_target_returns_a_result() -> None:
    # Given the library API and a target that refuses (port 9 on loopback is closed here)
    result = httpsaudit.scan(
        httpsaudit.parse_target("127.0.0.1:9"), httpsaudit.ScanOptions(timeout_s=2)
    )
    # Then no exception escapes: the outcome says what happened
    assert result.reachable is False
    assert result.connection.status is httpsaudit.ProbeStatus.FAILED


def test_library_scan_many_yields_every_target_once() -> None:
    # Given two closed loopback ports scanned through the library's fleet API
    options = httpsaudit.ScanOptions(timeout_s=2)
    targets = [(httpsaudit.parse_target(f"127.0.0.1:{port}"), options) for port in (9, 7)]
    # When they are scanned two at a time
    items = list(httpsaudit.scan_many(targets, concurrency=2))
    # Then each comes back once, with its position in the list and a result saying why
    assert sorted(item.index for item in items) == [0, 1]
    for item in items:
        assert item.result is not None
        assert item.result.reachable is False
        assert item.result.target.port == (9, 7)[item.index]
