"""Meta-learning priors: bilevel steps that differentiate through an inner update."""

from jaxprior.meta.maxl import (
    MaxlState,
    collapse_warning,
    create_maxl_state,
    generated_labels,
    generator_objective,
    label_statistics,
    maxl_train_step,
    negative_entropy,
    straight_through_labels,
)

__all__ = ["MaxlState", "collapse_warning", "create_maxl_state", "generated_labels",
           "generator_objective", "label_statistics", "maxl_train_step", "negative_entropy",
           "straight_through_labels"]
