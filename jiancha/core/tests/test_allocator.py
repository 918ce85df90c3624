"""jemalloc for the jiancha command: the process starts again with it preloaded, once."""

import os
import subprocess
import sys

import pytest

from jiancha.core.allocator import (
    ENV_CHOICE,
    jemalloc_library,
    preload_path,
    restart_environment,
)

LIBRARY = jemalloc_library()
needs_jemalloc = pytest.mark.skipif(
    LIBRARY is None or not sys.platform.startswith("linux"),
    reason="jemalloc is not installed here (make install adds Debian's libjemalloc2)",
)

# Prints the jemalloc libraries mapped into the process and its LD_PRELOAD.
PROBE = (
    "import os; "
    "print(sorted({line.split()[-1] for line in open('/proc/self/maps') if 'jemalloc' in line})); "
    "print(repr(os.environ.get('LD_PRELOAD', '')))"
)


def run_jiancha(**environ: str) -> list[str]:
    env = {key: value for key, value in os.environ.items() if key != "LD_PRELOAD"}
    env.pop(ENV_CHOICE, None)
    env.update(environ)
    done = subprocess.run(
        [sys.executable, "-m", "jiancha", "shell", "-c", PROBE],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=120,
    )
    return [line for line in done.stdout.splitlines() if line.strip()][-2:]


def test_system_choice_or_an_earlier_preload_means_no_restart():
    assert restart_environment({ENV_CHOICE: "system"}) is None
    assert preload_path({ENV_CHOICE: "system"}) is None
    already = {"LD_PRELOAD": "/opt/lib/libjemalloc.so.2"}
    assert restart_environment(already) is None


@needs_jemalloc
def test_the_restart_environment_adds_jemalloc_and_keeps_other_preloads():
    environment = restart_environment({"LD_PRELOAD": "/opt/lib/libother.so", "X": "1"})

    assert environment is not None
    assert environment["LD_PRELOAD"].split() == [LIBRARY, "/opt/lib/libother.so"]
    assert environment["X"] == "1"


@needs_jemalloc
def test_the_jiancha_command_runs_on_jemalloc():
    mapped, preload = run_jiancha()

    assert LIBRARY in mapped
    assert LIBRARY in preload


@pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads /proc/self/maps"
)
def test_jiancha_malloc_system_keeps_glibc_malloc():
    mapped, preload = run_jiancha(**{ENV_CHOICE: "system"})

    assert mapped == "[]"
    assert preload == "''"
