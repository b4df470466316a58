"""The benchmark's calibration sweep: the baseline trained on versions of the benchmark
that differ in how strong the background shortcut is in training, set by two builder
knobs: ``other_on_forest`` (P(forest floor | any non-kakapo species)) and
``hard_negative_on_forest`` (P(forest floor | kea or parakeet), the kakapo's body with
another head).

The target (evidence issue): a default where the converged baseline's worst-group
accuracy on ``test_shift`` lies in [0.2, 0.7] with a seed std <= 0.1 while its i.i.d.
test accuracy stays >= 0.95; worst-group accuracy over species x background groups and,
as Waterbirds groups, over label x background ones. Every run is the baseline in the
studies' shared setting (``experiments/configs/study_setting.py``) on its benchmark
version; ``--full``: that setting's full version. Command and budget:
``experiments/calibration.py``.
"""

from experiments.configs import study_setting
from experiments.configs.baseline import get_config as baseline
from jaxprior.data.sources import synthetic_config

# (other_on_forest, hard_negative_on_forest) of each swept benchmark version.
POINTS = ((0.01, 0.05), (0.02, 0.05), (0.02, 0.1), (0.05, 0.1))


def variant_name(other: float, hard: float) -> str:
    return f"other_{other:g}_hard_{hard:g}"


VARIANTS = {variant_name(*p): p for p in POINTS}


def shortcut_strength(variant: str) -> float:
    """P(kakapo | forest floor) in the i.i.d. splits of that variant's benchmark."""
    return synthetic_config(get_config(variant).dataset).shortcut_strength()


def get_config(variant: str = variant_name(*POINTS[0]), *, full: bool = False):
    if variant not in VARIANTS:
        raise ValueError(f"unknown calibration variant {variant!r}; expected one of "
                         f"{list(VARIANTS)}")
    c = study_setting.apply(baseline(), full=full,
                            dataset=study_setting.benchmark(*VARIANTS[variant]))
    c.eval_splits = ("validation", "test", "test_shift")
    c.report_metrics = ("test/accuracy", "test_shift/accuracy",
                        "test_shift/worst_group_accuracy",
                        "test_shift/label_worst_group_accuracy",
                        "test_shift/adjusted_accuracy")
    return c
