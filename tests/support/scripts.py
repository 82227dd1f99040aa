"""Running a benchmark script as a user would, and checking the house CLI rules on it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def run_script(script: Path, *args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    """``python script args...`` from this environment, output captured, never raising."""
    return subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True,
                          timeout=timeout, check=False)


def assert_usage_error(script: Path, *args: str) -> None:
    """Bad usage exits 2 with nothing on stdout and a message naming the first argument."""
    done = run_script(script, *args, "--json", timeout=60)
    assert done.returncode == 2 and done.stdout == "", done.stderr
    assert args[0] in done.stderr
