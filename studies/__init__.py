"""The studies, one file each, registered in a plain dict: adding a study is adding a file here.

from studies import STUDIES
STUDIES["cnn20k"].description
"""

from search.study import StudyDef
from studies import (
    ablation,
    baseline,
    cnn5k,
    cnn6k,
    cnn20k,
    frontier,
    frontier2,
    frontier3,
    lr_sweep,
    recipe,
)

STUDIES: dict[str, StudyDef] = {
    study.name: study
    for study in (
        baseline.STUDY,
        cnn20k.STUDY,
        cnn6k.STUDY,
        cnn5k.STUDY,
        frontier.STUDY,
        frontier2.STUDY,
        frontier3.STUDY,
        lr_sweep.STUDY,
        ablation.STUDY,
        recipe.STUDY,
    )
}
