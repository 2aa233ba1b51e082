"""Each atheris target runs for a fixed budget of inputs and finds nothing.

The harness runs in a subprocess (libFuzzer owns its process and exits when done), from the
committed corpus, with a fixed libFuzzer seed so that a CI failure replays the same inputs.
Longer runs by hand: tests/fuzz/README.md.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fuzz.corpus import CORPUS_DIR, corpus_differences
from tests.fuzz.targets import TARGETS

HARNESS = Path(__file__).resolve().parent / "atheris_harness.py"
RUNS_PER_TARGET = 2000
LIBFUZZER_SEED = 20240909
# A generous bound on one whole run, only so that a hang fails the test instead of the job.
# libFuzzer's own -timeout fails any single input that takes longer than its value.
RUN_TIMEOUT_S = 300
INPUT_TIMEOUT_S = 30
ATHERIS_MISSING = importlib.util.find_spec("atheris") is None


def test_the_committed_corpus_is_what_the_vectors_give() -> None:
    # Given the corpus directory next to the harness
    # When it is compared with the seeds the vectors give today
    # Then nothing is missing, stale or changed (rebuild with python tests/fuzz/corpus.py)
    assert corpus_differences(CORPUS_DIR) == []


@pytest.mark.skipif(
    ATHERIS_MISSING,
    reason="atheris is not installed (pip install atheris; CI installs it with the test extra)",
)
@pytest.mark.parametrize("target", sorted(TARGETS))
def test_the_target_runs_its_budget_without_a_finding(target: str, tmp_path: Path) -> None:
    # Given the harness and a target, crash files going to a scratch directory
    command = [
        sys.executable,
        str(HARNESS),
        target,
        f"-atheris_runs={RUNS_PER_TARGET}",
        f"-seed={LIBFUZZER_SEED}",
        f"-timeout={INPUT_TIMEOUT_S}",
        f"-artifact_prefix={tmp_path}/",
    ]

    # When it runs its budget
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=RUN_TIMEOUT_S, cwd=tmp_path, check=False
    )

    # Then it ran every input, exited 0 and wrote no crash, timeout or leak file
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"Done {RUNS_PER_TARGET} " in result.stderr
    assert sorted(path.name for path in tmp_path.iterdir()) == []
