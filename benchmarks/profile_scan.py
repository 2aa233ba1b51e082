"""Where a full scan spends its CPU: one scan of a local nginx, every probe, under pyinstrument.

First a plain scan (no profiler) gives the numbers to quote: wall time, connections, and the
process CPU (``time.process_time``). Then the same scan runs with a pyinstrument profiler in
every thread it starts (the probes run in worker threads, and one pyinstrument profiler sees
only its own thread), sampling each thread's CPU clock (``time.thread_time``) so that waiting on
the network weighs nothing; ``--wall`` samples wall time instead. The threads' sessions are
combined and printed three ways:

- self time by function (file:function, % of the scan's sampled CPU): the leaf hot spots;
- inclusive time of httpsaudit's own functions: which of our calls the CPU is spent under;
- pyinstrument's call tree (trimmed to ``--tree-lines``).

The scan goes straight to nginx by default; ``--rtt-ms`` puts the delay proxy (with TCP
handshake emulation) in between, whose threads run in this process but are never profiled.
Nothing here is asserted. Needs pyinstrument (``pip install pyinstrument``).

    python benchmarks/profile_scan.py [--rtt-ms 0] [--top 25] [--tree-lines 80] [--wall]
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from pyinstrument import Profiler
from pyinstrument.frame import Frame
from pyinstrument.renderers import ConsoleRenderer
from pyinstrument.session import Session
from pyinstrument.stack_sampler import get_stack_sampler

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from httpsaudit.probes.base import ScanOptions
from httpsaudit.results import ScanResult
from httpsaudit.scan import scan
from httpsaudit.target import parse_address, parse_target
from tests.pki import TestPKI
from tests.servers import DelayProxy, NginxServer

# CPU seconds between samples: fine enough for a scan of about one CPU second.
SAMPLE_INTERVAL_S = 0.0005
# Unprofiled scans timed in a fresh process: the first (cold, as in every CLI run) and warm.
PLAIN_SCANS = 3
# Threads whose target lives here belong to the lab (the proxy), not to the scan.
LAB_MODULE = "tests.servers"


class ThreadProfiles:
    """A pyinstrument profiler in every thread started while installed (lab threads aside)."""

    def __init__(self, sample_cpu: bool) -> None:
        self.sample_cpu = sample_cpu
        self.sessions: list[Session] = []
        self.threads_cpu_s = 0.0
        self._lock = threading.Lock()
        self._original_run: Callable[[threading.Thread], None] | None = None

    def start_profiler(self) -> Profiler:
        """A profiler for the calling thread, on its CPU clock unless wall time was asked for."""
        if self.sample_cpu:
            # pyinstrument keeps one sampler per thread; its clock is this attribute.
            get_stack_sampler().timer_func = time.thread_time
        profiler = Profiler(interval=SAMPLE_INTERVAL_S, async_mode="disabled")
        profiler.start()
        return profiler

    def keep(self, profiler: Profiler, cpu_s: float) -> None:
        session = profiler.stop()
        with self._lock:
            self.sessions.append(session)
            self.threads_cpu_s += cpu_s

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        original_run = threading.Thread.run
        profiles = self

        def profiled_run(thread: threading.Thread) -> None:
            target = getattr(thread, "_target", None)
            if getattr(target, "__module__", None) == LAB_MODULE:
                original_run(thread)
                return
            profiler = profiles.start_profiler()
            cpu_before = time.thread_time()
            try:
                original_run(thread)
            finally:
                profiles.keep(profiler, time.thread_time() - cpu_before)

        threading.Thread.run = profiled_run  # type: ignore[method-assign,assignment]
        try:
            yield
        finally:
            threading.Thread.run = original_run  # type: ignore[method-assign]

    def combined(self) -> Session:
        sessions = iter(self.sessions)
        session = next(sessions)
        for other in sessions:
            session = Session.combine(session, other)
        return session


def run_scan(port: int, root: Path) -> ScanResult:
    target = parse_target(f"localhost:{port}", connect_to=(parse_address(f"127.0.0.1:{port}"),))
    return scan(target, ScanOptions(ca_file=root, timeout_s=300))


def short_path(path: str | None) -> str:
    """A path from the package root (httpsaudit/..., cryptography/...) or as given."""
    if not path:
        return "?"
    parts = Path(path).parts
    for anchor in ("site-packages", "main", "lib"):
        if anchor in parts:
            index = len(parts) - 1 - parts[::-1].index(anchor)
            if anchor == "lib" and index + 2 < len(parts) and parts[index + 1].startswith("python"):
                return "/".join(parts[index + 2 :])
            if anchor != "lib":
                return "/".join(parts[index + 1 :])
    return path


def frame_key(frame: Frame) -> str:
    return f"{short_path(frame.file_path)}:{frame.function}"


def tally(root: Frame) -> tuple[dict[str, float], dict[str, float]]:
    """Self time and inclusive time per file:function (recursion counted once per stack)."""
    self_time: dict[str, float] = collections.defaultdict(float)
    inclusive: dict[str, float] = collections.defaultdict(float)
    stack: list[tuple[Frame, frozenset[str]]] = [(root, frozenset())]
    while stack:
        frame, above = stack.pop()
        key = frame_key(frame)
        if not frame.is_synthetic:  # [root] (the threads' common parent), [self], [await]
            self_time[key] += frame.total_self_time
            if key not in above:
                inclusive[key] += frame.time
        stack.extend((child, above | {key}) for child in frame.children)
    return self_time, inclusive


def print_top(title: str, times: dict[str, float], total: float, top: int) -> None:
    print(f"\n{title}")
    for key, seconds in sorted(times.items(), key=lambda item: -item[1])[:top]:
        print(f"{seconds / total * 100:6.1f}%  {seconds * 1000:8.1f} ms  {key}")


def plain_scans(port: int, root: Path, count: int) -> None:
    """Unprofiled scans in this (fresh) process: the first is cold, like every CLI run."""
    for index in range(count):
        cpu_before, started = time.process_time(), time.perf_counter()
        result = run_scan(port, root)
        wall_s, cpu_s = time.perf_counter() - started, time.process_time() - cpu_before
        label = "cold (first scan of the process)" if index == 0 else f"warm (scan {index + 1})"
        print(
            f"  {label:<34} wall {wall_s * 1000:6.0f} ms, process CPU {cpu_s * 1000:6.0f} ms, "
            f"{result.connections} connections"
        )


def print_profile(profiles: ThreadProfiles, wall_s: float, top: int, tree_lines: int) -> None:
    session = profiles.combined()
    root = session.root_frame(trim_stem=False)
    clock = "thread CPU" if profiles.sample_cpu else "wall time"
    print(
        f"\nprofiled scan: wall {wall_s * 1000:.0f} ms, CPU of the scan's "
        f"{len(profiles.sessions)} threads {profiles.threads_cpu_s * 1000:.0f} ms "
        f"(profiler overhead included), sampled on {clock}"
    )
    if root is None:
        print("no samples")
        return
    self_time, inclusive = tally(root)
    print_top("self time by function (leaf hot spots):", self_time, root.time, top)
    ours = {key: value for key, value in inclusive.items() if key.startswith("httpsaudit/")}
    title = "inclusive time of httpsaudit functions (what the CPU is spent under):"
    print_top(title, ours, root.time, top)
    tree = ConsoleRenderer(unicode=False, color=False, time="percent_of_total").render(session)
    lines = tree.splitlines()
    print(f"\npyinstrument call tree (first {tree_lines} of {len(lines)} lines):")
    print("\n".join(lines[:tree_lines]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rtt-ms", type=float, default=0.0, help="0: straight to nginx")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--tree-lines", type=int, default=80)
    parser.add_argument("--wall", action="store_true", help="sample wall time, not thread CPU")
    parser.add_argument("--warm", action="store_true", help="profile a second scan, not the first")
    # Internal: the child process that times unprofiled scans.
    parser.add_argument("--plain", nargs=2, metavar=("PORT", "CA_FILE"), help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.plain:
        plain_scans(int(arguments.plain[0]), Path(arguments.plain[1]), PLAIN_SCANS)
        return
    with tempfile.TemporaryDirectory() as directory, contextlib.ExitStack() as stack:
        pki = TestPKI.create(Path(directory))
        server = stack.enter_context(NginxServer("basic", pki.ecdsa_p256, http2="http2"))
        port = server.port
        if arguments.rtt_ms > 0:
            proxy = DelayProxy(
                "127.0.0.1", server.port, arguments.rtt_ms / 2, emulate_tcp_handshake=True
            )
            port = stack.enter_context(proxy).port
        where = f"{arguments.rtt_ms:.0f} ms RTT via the proxy" if arguments.rtt_ms else "direct"
        print(f"full scan of nginx 1.22 ({where}), no profiler, in a fresh process:")
        sys.stdout.flush()
        subprocess.run(
            [sys.executable, __file__, "--plain", str(port), str(pki.root_path)], check=False
        )
        if arguments.warm:
            run_scan(port, pki.root_path)
        profiles = ThreadProfiles(sample_cpu=not arguments.wall)
        with profiles.installed():
            main_profiler = profiles.start_profiler()
            main_cpu_before = time.thread_time()
            started = time.perf_counter()
            run_scan(port, pki.root_path)
            wall_s = time.perf_counter() - started
            profiles.keep(main_profiler, time.thread_time() - main_cpu_before)
    print_profile(profiles, wall_s, arguments.top, arguments.tree_lines)


if __name__ == "__main__":
    main()
