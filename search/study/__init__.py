"""The study API: what a study file imports.

    from search.study import REFERENCE_RECIPE, ArchSpec, CnnStudy, Limits, Proposal, Transition

A study file (built in under studies/, or a user's own .py) defines one study with these; the
definitions live in search.study.definitions, the recipe, limits, pruner helpers and net files
beside it. This package imports archs and its own modules only.
"""

from archs import ArchSpec, Transition
from search.study.definitions import CnnStudy, Proposal, RunOptions, StudyDef, ToyStudy
from search.study.limits import Limits
from search.study.recipe import REFERENCE_RECIPE, Recipe

__all__ = [  # the public API for study files
    "REFERENCE_RECIPE",
    "ArchSpec",
    "CnnStudy",
    "Limits",
    "Proposal",
    "Recipe",
    "RunOptions",
    "StudyDef",
    "Transition",
]
__all__ += ["ToyStudy"]  # the Part-A toy study (studies/lr_sweep.py)
