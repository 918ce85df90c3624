"""jemalloc as the process's ``malloc``, where the machine has it.

Evaluating one case (:func:`jiancha.quality.services.case_evaluate`, on every import and
edit) runs a few dozen DuckDB statements on tables of a few rows: their cost is setting up
operators, not data, and a quarter of it was glibc's ``malloc`` and ``free`` for the
operators' vectors (``perf`` on the single-case path; DuckDB's own buffers use its bundled
allocator, but the rest of its objects use the process's ``malloc``). With jemalloc
preloaded the same evaluations take about 17 % less (docs/performance.md, session 7). The
bulk evaluation is not affected either way.

``malloc`` is chosen when the process starts, so the ``jiancha`` command
(:func:`jiancha.__main__.main`) starts itself again with ``LD_PRELOAD`` set, once, when
jemalloc is installed (Debian's ``libjemalloc2``, which ``make install`` adds) and not
already loaded. ``JIANCHA_MALLOC=system`` keeps glibc's. ``make demo`` starts gunicorn
with the same library (:func:`preload_path` is what it prints).
"""

import os
import sys
from collections.abc import Mapping
from pathlib import Path

ENV_CHOICE = "JIANCHA_MALLOC"
# Debian's package puts the library under the multiarch directory.
CANDIDATES = (
    "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2",
    "/usr/lib/aarch64-linux-gnu/libjemalloc.so.2",
    "/usr/lib/libjemalloc.so.2",
    "/usr/local/lib/libjemalloc.so.2",
)


def jemalloc_library() -> str | None:
    """The path of an installed jemalloc shared library, or None."""
    return next((path for path in CANDIDATES if Path(path).is_file()), None)


def preload_path(environ: Mapping[str, str] | None = None) -> str | None:
    """The library to preload, or None: not installed, or ``JIANCHA_MALLOC=system``."""
    environ = os.environ if environ is None else environ
    if environ.get(ENV_CHOICE, "jemalloc").strip().lower() == "system":
        return None
    return jemalloc_library()


def preloaded(environ: Mapping[str, str] | None = None) -> bool:
    """Whether jemalloc is already in ``LD_PRELOAD``."""
    environ = os.environ if environ is None else environ
    return "jemalloc" in environ.get("LD_PRELOAD", "")


def restart_environment(
    environ: Mapping[str, str] | None = None,
) -> dict[str, str] | None:
    """The environment to start this process again with (jemalloc preloaded), or None when
    there is nothing to do."""
    environ = dict(os.environ if environ is None else environ)
    library = preload_path(environ)
    if library is None or preloaded(environ) or not sys.platform.startswith("linux"):
        return None
    existing = environ.get("LD_PRELOAD", "").strip()
    environ["LD_PRELOAD"] = f"{library} {existing}".strip()
    return environ


def use_jemalloc() -> None:
    """Start this Python process again with jemalloc preloaded (replacing it: nothing
    after this call runs in the old process), unless it is not installed, not wanted or
    already there. Call it first thing, before any thread or file is opened."""
    environ = restart_environment()
    if environ is None:
        return
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execve(sys.executable, [sys.executable, *sys.orig_argv[1:]], environ)
    except OSError:
        return  # the interpreter cannot be started again: go on with glibc's malloc


if __name__ == "__main__":  # pragma: no cover - used by the Makefile
    print(preload_path() or "")
