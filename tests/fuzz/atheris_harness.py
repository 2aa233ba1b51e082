"""Coverage-guided fuzzing of the server-byte parsers with atheris (libFuzzer for Python).

One entry point per target in ``tests/fuzz/targets.py``, chosen by name::

    python tests/fuzz/atheris_harness.py --list
    python tests/fuzz/atheris_harness.py client -atheris_runs=20000
    python tests/fuzz/atheris_harness.py ocsp -max_total_time=600 -jobs=2

Any libFuzzer option may follow the name. Without a corpus directory on the command line the
run starts from the committed seeds (``tests/fuzz/corpus/<target>/``) plus the target's seeds
made in this process (the OCSP staples must be signed for this process's chain), passed as
``-seed_inputs`` so that nothing is written into the committed corpus. Name a directory of your
own first to keep what the run finds. Only ``httpsaudit`` is instrumented for coverage.

A finding is any exception a target lets out (see targets.py): libFuzzer writes the input to
``<artifact_prefix>crash-<sha1>`` and the process exits non-zero. Replay one with
``python tests/fuzz/atheris_harness.py TARGET crash-<sha1>``.
"""

from __future__ import annotations

import atexit
import importlib
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPOSITORY = HERE.parents[1]
CORPUS_DIR = HERE / "corpus"
USAGE = "usage: python tests/fuzz/atheris_harness.py TARGET|--list [libFuzzer options] [CORPUS...]"


def _seed_inputs(target_name: str, fresh: dict[str, bytes]) -> str:
    """The ``-seed_inputs`` value: committed seeds, then this process's, in a scratch dir."""
    scratch = Path(tempfile.mkdtemp(prefix=f"httpsaudit-fuzz-{target_name}-"))
    atexit.register(shutil.rmtree, scratch, ignore_errors=True)
    paths = sorted((CORPUS_DIR / target_name).glob("*"))
    for index, data in enumerate(fresh[name] for name in sorted(fresh)):
        path = scratch / f"fresh-{index}"
        path.write_bytes(data)
        paths.append(path)
    return ",".join(str(path) for path in paths)


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(USAGE, file=sys.stderr)
        return 2
    sys.path.insert(0, str(REPOSITORY))
    if argv[1] == "--list":
        for name, listed in importlib.import_module("tests.fuzz.targets").TARGETS.items():
            print(f"{name:14} {listed.description}")
        return 0
    atheris = importlib.import_module("atheris")
    # Instrument before the first import of httpsaudit: only modules imported inside are traced.
    with atheris.instrument_imports(include=["httpsaudit"]):
        targets = importlib.import_module("tests.fuzz.targets")
    target = targets.TARGETS.get(argv[1])
    if target is None:
        print(
            f"unknown target {argv[1]!r}; choose from {', '.join(targets.TARGETS)}", file=sys.stderr
        )
        return 2
    options = argv[2:]
    if not any(not option.startswith("-") for option in options) and not any(
        option.startswith("-seed_inputs=") for option in options
    ):
        options.append(f"-seed_inputs={_seed_inputs(target.name, target.seeds())}")

    def test_one_input(data: bytes) -> None:
        target.run(data)

    atheris.Setup([argv[0], *options], test_one_input)
    atheris.Fuzz()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
