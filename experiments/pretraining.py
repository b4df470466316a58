"""The pretraining runs that studies' pretrained variants start from."""

from collections.abc import Callable

from experiments.configs.attention_priors import pretrain_config
from jaxprior.train import loop


def pretrain(variant_configs: dict, directory_of: Callable[[str], str | None]) -> None:
    """Trains, once per directory, the all-species run (seed 0, ``pretrain_config``) that
    each variant of `variant_configs` with a ``directory_of(name)`` starts from, and points
    its ``priors.pretrained.checkpoint`` there; variants whose directory is None are left
    alone. A finished run is resumed at its end, not trained again."""
    done = set()
    for name, config in variant_configs.items():
        directory = directory_of(name)
        if directory is None:
            continue
        if directory not in done:
            print(f"== pretraining (all-species) -> {directory}", flush=True)
            loop.train_and_evaluate(pretrain_config(config), directory)
            done.add(directory)
        config.priors.pretrained.checkpoint = directory
