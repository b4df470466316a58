"""Which way each metric improves, by a word in its name: what paired effects read to
call a difference supported or contradicted."""

# Metrics where lower is better; every other one: higher. A shape-bias remedy's claim is
# less texture reliance: fewer cue-conflict images classified as their texture's species;
# an attention prior's, less of the target's evidence outside the object; a MAXL
# remedy's, generated labels that say less about the scene.
LOWER_IS_BETTER = ("loss", "fpr", "error", "ece", "calibration", "example_entropy",
                   "texture_accuracy", "background_evidence", "nmi_background")


def direction(metric: str) -> str:
    """"lower" for a loss, false-positive rate, error, calibration error, MAXL's
    per-example label entropy or its labels' NMI with the background, cue-conflict
    texture accuracy or the share of CAM evidence on the background, else "higher"."""
    name = metric.split("/")[-1].lower()
    return "lower" if any(word in name for word in LOWER_IS_BETTER) else "higher"
