"""The benchmark's calibration sweep: the baseline trained on versions of the benchmark
that differ in how often the hard negatives (kea, parakeet: the kakapo's body, another
head) stand on the forest floor in training, ``hard_negative_on_forest``.

The target (evidence issue): a default where the converged baseline's worst-group
accuracy on ``test_shift`` lies in [0.2, 0.7] with a seed std <= 0.1 while its i.i.d.
test accuracy stays >= 0.95. Command and budget: ``experiments/calibration.py``.
"""

from experiments.configs.baseline import get_config as baseline

# The swept values; 0.002 is the benchmark's default before calibration (other_on_forest).
VALUES = (0.002, 0.02, 0.05, 0.1)
STEPS = 300  # the validation curve of every run is in its metrics.jsonl (eval_every)
FULL_STEPS = 1000  # --full: for GPU users


def variant_name(value: float) -> str:
    return f"hard_negative_on_forest_{value:g}"


VARIANTS = {variant_name(v): v for v in VALUES}


def get_config(variant: str = variant_name(VALUES[0]), *, full: bool = False):
    if variant not in VARIANTS:
        raise ValueError(f"unknown calibration variant {variant!r}; expected one of "
                         f"{list(VARIANTS)}")
    c = baseline()
    c.dataset = f"synthetic_birds/64px:hard_negative_on_forest={VARIANTS[variant]:g}"
    c.num_steps = FULL_STEPS if full else STEPS
    c.eval_every = 50
    c.checkpoint_every = c.num_steps
    c.eval_splits = ("validation", "test", "test_shift")
    c.report_metrics = ("test/accuracy", "test_shift/accuracy",
                        "test_shift/worst_group_accuracy")
    return c
