"""Finding a study by what the user typed: a built-in name, or a Python file defining STUDY.

`find_study("cnn20k")` is the registered study; `find_study("path/to/my_study.py")` imports that
file (outside the package, under a private module name) and returns its `STUDY`, marked with
the file's path and the SHA-256 of its text, which the stored study records so that a resume
with a changed file is refused. Every problem is a UsageError naming the file.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import sys
from pathlib import Path

from search.errors import UsageError
from search.study.definitions import StudyDef


def is_study_file(name: str) -> bool:
    return name.endswith(".py") or "/" in name


def find_study(name: str) -> StudyDef:
    if is_study_file(name):
        return load_study_file(Path(name))
    from studies import STUDIES

    if name not in STUDIES:
        known = ", ".join(STUDIES)
        raise UsageError(
            f"unknown study {name!r}; known: {known} (see --list), or a file such as"
            " my_study.py that defines STUDY"
        )
    return STUDIES[name]


def load_study_file(path: Path) -> StudyDef:
    if not path.is_file():
        raise UsageError(f"study file {path}: no such file")
    text = path.read_bytes()
    digest = hashlib.sha256(text).hexdigest()
    module_name = f"_cnnsearch_study_{digest[:12]}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses and pickling look their module up
    try:
        spec.loader.exec_module(module)
    except Exception as error:  # the user's code: any error is theirs, named in one line
        del sys.modules[module_name]
        first = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise UsageError(
            f"study file {path} failed to import: {type(error).__name__}: {first}"
        ) from None
    study = getattr(module, "STUDY", None)
    if not isinstance(study, StudyDef):
        found = "nothing" if study is None else type(study).__name__
        raise UsageError(
            f"study file {path} defines no STUDY (a search.study.CnnStudy); found {found}"
        )
    return dataclasses.replace(study, source=str(path.resolve()), source_sha256=digest)
