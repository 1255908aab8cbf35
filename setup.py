"""Build hook: ship the top-level ``rules/`` folder inside the package.

The rule data lives at the top of the repository (``rules/trade_assurance/<version>/``),
where analysts edit it. A plain ``pip install .`` must still decide cases, so
the wheel carries a copy of it as ``adjudicator/ruledata/``;
:func:`adjudicator.core.loader.default_rules_dir` finds it there (and falls
back to the checkout's ``rules/`` in an editable install). Everything else
about the build is declared in ``pyproject.toml``.
"""

from __future__ import annotations

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

RULES = Path(__file__).resolve().parent / "rules"


class BuildWithRules(build_py):
    """``build_py`` that also copies ``rules/`` to ``adjudicator/ruledata/`` in the build."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads the checkout's rules/ directly
        target = Path(self.build_lib) / "adjudicator" / "ruledata"
        for source in sorted(RULES.rglob("*.toml")):
            destination = target / source.relative_to(RULES)
            self.mkpath(str(destination.parent))
            self.copy_file(str(source), str(destination))


setup(cmdclass={"build_py": BuildWithRules})
