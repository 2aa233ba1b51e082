"""The dependency arrows of ARCHITECTURE.md, checked by walking every import in the package."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "httpsaudit"

# layer -> (forbidden import prefixes). Prefixes match whole dotted components.
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "tls": (
        "socket",
        "ssl",
        "select",
        "time",
        "threading",
        "asyncio",
        "OpenSSL",
        "dns",
        "rich",
        "click",
        "httpsaudit.net",
        "httpsaudit.probes",
        "httpsaudit.scan",
        "httpsaudit.rules",
        "httpsaudit.report",
        "httpsaudit.cli",
        "httpsaudit.results",
        "httpsaudit.target",
    ),
    "net": (
        "httpsaudit.probes",
        "httpsaudit.scan",
        "httpsaudit.rules",
        "httpsaudit.report",
        "httpsaudit.cli",
        "rich",
        "click",
    ),
    "probes": (
        "httpsaudit.rules",
        "httpsaudit.report",
        "httpsaudit.cli",
        "httpsaudit.scan",
        "rich",
        "click",
        "OpenSSL",
        "socket",
        "ssl",
        "dns",
    ),
    "scan": ("httpsaudit.rules", "httpsaudit.report", "httpsaudit.cli", "rich", "click", "OpenSSL"),
    "rules": (
        "httpsaudit.net",
        "httpsaudit.probes",
        "httpsaudit.scan",
        "httpsaudit.report",
        "httpsaudit.cli",
        "socket",
        "rich",
        "click",
        "OpenSSL",
    ),
    "config": (
        "httpsaudit.net",
        "httpsaudit.probes",
        "httpsaudit.scan",
        "httpsaudit.report",
        "httpsaudit.cli",
        "socket",
        "rich",
        "click",
        "OpenSSL",
    ),
    "report": (
        "httpsaudit.net",
        "httpsaudit.probes",
        "httpsaudit.scan",
        "httpsaudit.cli",
        "click",
        "OpenSSL",
        "socket",
    ),
    "leaf": (
        "httpsaudit.net",
        "httpsaudit.probes",
        "httpsaudit.scan",
        "httpsaudit.rules",
        "httpsaudit.report",
        "httpsaudit.cli",
        "rich",
        "click",
        "OpenSSL",
        "socket",
    ),
}
# The package __init__ is the public API: like cli.py, it may import any layer.
LEAF_MODULES = {"results.py", "errors.py", "target.py"}
# Single-module exceptions, each with the reason it is allowed.
ONLY_IN = {
    "OpenSSL": {"net/openssl_client.py"},  # the one pyOpenSSL adapter
    "time": {"net/clock.py"},  # the one clock
    "click": {"cli.py"},  # the only place that parses arguments or exits
    "rich": {"cli.py", "report/terminal.py"},
}


def _layer(relative: str) -> str:
    top = relative.split("/")[0]
    if top in {"tls", "net", "probes", "report", "rules"}:
        return top
    if relative == "scan.py":
        return "scan"
    if relative in {"policy.py", "baseline.py"}:
        return "config"  # read files and compare reports: no network, no terminal
    if relative in LEAF_MODULES:
        return "leaf"
    return "top"  # cli.py, demo.py, __main__.py: may use anything below them


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def _matches(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


MODULES = sorted(str(path.relative_to(PACKAGE)) for path in PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("relative", MODULES)
def test_imports_follow_the_layers(relative: str) -> None:
    layer = _layer(relative)
    imports = _imports(PACKAGE / relative)
    for name in imports:
        for prefix in FORBIDDEN.get(layer, ()):
            assert not _matches(name, prefix), f"{relative} ({layer}) must not import {name}"
        for prefix, allowed in ONLY_IN.items():
            if _matches(name, prefix):
                assert relative in allowed, f"only {sorted(allowed)} may import {name}"


def test_sys_exit_only_in_cli() -> None:
    offenders = [
        relative
        for relative in MODULES
        if relative != "cli.py" and "sys.exit(" in (PACKAGE / relative).read_text("utf-8")
    ]
    assert offenders == []


def test_the_walk_sees_the_package() -> None:
    # A layering test that walks nothing would pass forever.
    assert "net/openssl_client.py" in MODULES
    assert "tls/records.py" in MODULES
    assert "OpenSSL" in " ".join(_imports(PACKAGE / "net/openssl_client.py"))
