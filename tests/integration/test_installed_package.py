"""A plain (non-editable) ``pip install .`` ships the rules and decides a fixture
from any directory.

The project is copied to a temp folder (the build writes ``build/`` and
``*.egg-info`` next to its sources), installed with pip into a fresh virtual
environment (pip's wheel cache serves the build requirements), and its
``adjudicator`` command decides the active version's worked example 1 from
another directory. The dependencies are not reinstalled: a path entry points
the new environment at this one's site-packages (a plain path entry: the
editable install's finder there is not activated), so what is under test is
the built wheel's own content.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import orjson
import pytest

from adjudicator import load_catalog

ROOT = Path(__file__).resolve().parents[2]
ACTIVE = load_catalog().active_version
WE_1 = ROOT / "fixtures" / ACTIVE / "WE-1-never-shipped.json"
SOURCES = ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "adjudicator", "api", "rules")


@pytest.mark.slow
def test_a_plain_install_decides_a_fixture_from_any_directory(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(path, source / name)
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--no-deps",
            "-q",
            str(source),
        ],
        check=True,
        capture_output=True,
    )
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    (site / "zz-test-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "ADJUDICATOR_"))}

    where = subprocess.run(
        [
            str(python),
            "-c",
            "import adjudicator.core.loader as l; print(l.__file__); print(l.default_rules_dir())",
        ],
        cwd=elsewhere,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    assert where[0].startswith(str(site)), "the installed package, not the checkout"
    assert where[1] == str(site / "adjudicator" / "ruledata")

    decided = subprocess.run(
        [str(env_dir / "bin" / "adjudicator"), "decide", str(WE_1)],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert decided.returncode == 0, decided.stderr
    decision = orjson.loads(decided.stdout)
    expected = orjson.loads(WE_1.read_bytes())["expected"]
    assert decision["outcome"] == expected["outcome"]
    assert decision["refund"]["amount"] == expected["refund"]
    assert decision["ruleset"]["version"] == ACTIVE
