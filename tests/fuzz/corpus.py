"""The atheris seed corpus: one directory per target under tests/fuzz/corpus/, one file per seed.

Every file is a target's seed (``targets.TARGETS[name].seeds()``), built from the recorded
vectors, so the corpus is a copy of what the vectors say and can always be made again::

    python tests/fuzz/corpus.py           # (re)build tests/fuzz/corpus/
    python tests/fuzz/corpus.py --check   # exit 1 and list what differs

The ``ocsp`` seeds are staples signed by keys made fresh on each build and then forgotten, so
only their names are compared; the harness adds staples signed for its own chain at start.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``tests`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.fuzz.targets import TARGETS

CORPUS_DIR = Path(__file__).resolve().parent / "corpus"
# Targets whose seeds differ on each build (fresh keys): compared by name only.
FRESH_EACH_BUILD = frozenset({"ocsp"})
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


def seed_file_name(seed_name: str) -> str:
    """A seed's name as a plain file name."""
    return _UNSAFE.sub("_", seed_name)


def wanted_corpus() -> dict[str, dict[str, bytes]]:
    """For each target, file name -> bytes, as the vectors give them now."""
    return {
        name: {seed_file_name(seed): data for seed, data in target.seeds().items()}
        for name, target in TARGETS.items()
    }


def build_corpus(directory: Path = CORPUS_DIR) -> None:
    """Write every seed, and remove files no seed names any more."""
    for name, files in wanted_corpus().items():
        target_dir = directory / name
        target_dir.mkdir(parents=True, exist_ok=True)
        for stale in set(path.name for path in target_dir.iterdir()) - set(files):
            (target_dir / stale).unlink()
        for file_name, data in files.items():
            (target_dir / file_name).write_bytes(data)


def corpus_differences(directory: Path = CORPUS_DIR) -> list[str]:
    """What a rebuild would change: missing, stale and (except fresh-key targets) changed files."""
    differences: list[str] = []
    for name, files in sorted(wanted_corpus().items()):
        target_dir = directory / name
        present = {path.name: path for path in target_dir.glob("*")} if target_dir.is_dir() else {}
        differences += [f"{name}/{file} is missing" for file in sorted(set(files) - set(present))]
        differences += [f"{name}/{file} is stale" for file in sorted(set(present) - set(files))]
        if name in FRESH_EACH_BUILD:
            continue
        differences += [
            f"{name}/{file} differs"
            for file in sorted(set(files) & set(present))
            if present[file].read_bytes() != files[file]
        ]
    return differences


def main(argv: list[str]) -> int:
    if argv == ["--check"]:
        differences = corpus_differences()
        for difference in differences:
            print(difference)
        return 1 if differences else 0
    if argv:
        print("usage: python tests/fuzz/corpus.py [--check]", file=sys.stderr)
        return 2
    build_corpus()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
