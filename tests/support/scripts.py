"""Running a benchmark script as a user would, checking the house CLI rules on it, and importing
it for its functions."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType


def run_script(script: Path, *args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    """``python script args...`` from this environment, output captured, never raising."""
    return subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True,
                          timeout=timeout, check=False)


def assert_usage_error(script: Path, *args: str) -> None:
    """Bad usage exits 2 with nothing on stdout and a message naming the first argument."""
    done = run_script(script, *args, "--json", timeout=60)
    assert done.returncode == 2 and done.stdout == "", done.stderr
    assert args[0] in done.stderr


BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def load_benchmark(name: str) -> ModuleType:
    """``benchmarks/<name>.py`` imported as the module ``name`` (registered in ``sys.modules``:
    dataclasses look their module up while being made)."""
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
