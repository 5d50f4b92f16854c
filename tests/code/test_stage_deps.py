"""dvc.yaml declares, for each stage, exactly the files of `pipeline/` that its module imports (directly or
through other pipeline modules), so `dvc repro` re-runs a stage when and only when its code changed."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import yaml

from tests.conftest import ROOT

PACKAGE = "pipeline"


def module_file(name: str) -> Path | None:
    """The file of a dotted module name inside the package, or None for names that are not modules."""
    path = ROOT.joinpath(*name.split("."))
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def imported_modules(path: Path) -> set[str]:
    """Dotted names of the package's modules that a file imports, anywhere in it (lazy imports count too)."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: `from . import x` in pipeline/models/a.py means pipeline.models.x
                parents = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parents + ([base] if base else []))
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)  # `from pipeline import model_io`
    return {name for name in names if name.split(".")[0] == PACKAGE and module_file(name)}


def import_closure(module: str) -> set[str]:
    """Repository paths of every package file that importing `module` executes, parents' __init__ included."""
    seen: set[str] = set()
    pending = [module]
    while pending:
        name = pending.pop()
        parts = name.split(".")
        for i in range(1, len(parts) + 1):  # importing a.b.c runs a/__init__.py and a/b/__init__.py first
            parent = ".".join(parts[:i])
            if parent not in seen and module_file(parent):
                seen.add(parent)
                pending.extend(imported_modules(module_file(parent)))
    return {module_file(name).relative_to(ROOT).as_posix() for name in seen}


def stage_modules() -> dict[str, tuple[str, list[str]]]:
    """stage -> (module its command runs, the deps it declares)."""
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text(encoding="utf-8"))["stages"]
    result = {}
    for stage, spec in stages.items():
        match = re.search(r"python -m ([\w.]+)", spec["cmd"])
        assert match, f"dvc.yaml: stage {stage!r} does not run `python -m <module>`"
        result[stage] = (match[1], spec.get("deps", []))
    return result


def dependency_problems() -> list[str]:
    problems = []
    for stage, (module, deps) in stage_modules().items():
        declared = {d for d in deps if d.startswith(f"{PACKAGE}/")}
        imported = import_closure(module)
        problems += [f"stage {stage!r} imports {path} but dvc.yaml does not list it"
                     for path in sorted(imported - declared)]
        problems += [f"stage {stage!r} lists {path} but does not import it"
                     for path in sorted(declared - imported)]
    return problems


def test_every_stage_declares_exactly_the_package_files_it_imports():
    problems = dependency_problems()
    assert not problems, "dvc.yaml deps are out of date:\n" + "\n".join(problems)


def test_the_closure_follows_imports_through_other_modules():
    closure = import_closure("pipeline.train")
    assert "pipeline/models/nbsvm.py" in closure  # via pipeline.models.families
    assert "pipeline/models/__init__.py" in closure  # a parent package runs first
    assert "pipeline/evaluate.py" not in closure and "pipeline/tracking.py" not in closure
    assert "pipeline/models/nbsvm.py" not in import_closure("pipeline.featurize")


def test_a_missing_dep_is_reported(monkeypatch):
    real = stage_modules()
    module, deps = real["train"]
    monkeypatch.setattr(sys.modules[__name__], "stage_modules",
                        lambda: {"train": (module, [d for d in deps if d != "pipeline/model_io.py"])})
    expected = "stage 'train' imports pipeline/model_io.py but dvc.yaml does not list it"
    assert dependency_problems() == [expected]
