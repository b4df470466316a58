"""Open-set recognition: some species are held out as unknown. Training sees the known
species only (relabelled 0..K-1 in order); evaluation keeps the unknown ones (target -1)
and reports how well the known-ness scores reject them (AUROC, FPR at 95% TPR)."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import numpy as np

from jaxprior import metrics as metrics_lib
from jaxprior.data import open_set as open_set_lib
from jaxprior.priors.base import Prior, register


@register("open_set")
class OpenSet(Prior):
    defaults: ClassVar[dict] = {"unknown_species": ()}

    @classmethod
    def is_enabled(cls, cfg):
        return len(cfg.unknown_species) > 0

    @classmethod
    def check_config(cls, cfg, config):
        if cfg.unknown_species and config.label_key != "species":
            raise ValueError(f"config.label_key must be 'species' with "
                             f"priors.open_set.unknown_species, got {config.label_key!r}")

    def configure_task(self, task):
        self.table = open_set_lib.known_index(task.spec.num_species, self.cfg.unknown_species)
        known = np.flatnonzero(self.table >= 0)
        num_known = int(self.table.max()) + 1
        spec = dataclasses.replace(  # names of the relabelled species
            task.spec, num_species=num_known,
            species_names=tuple(task.spec.name_of("species", int(k)) for k in known))
        return dataclasses.replace(task, spec=spec, num_classes=num_known, unknown_label=True)

    def transform_source(self, source, split, *, train):
        source = open_set_lib.relabel(source, self.table)
        return open_set_lib.known_only(source) if train else source

    def eval_outputs(self, logits, aux, batch):
        return {f"score_{kind}": metrics_lib.known_score(logits, kind)
                for kind in metrics_lib.SCORES}

    def summarise(self, out, keep):
        unknown = out["valid"] & (out[self.task.label_key] < 0)
        if not np.any(unknown) or not np.any(keep):
            return {}
        result = {"open_set/num_unknown": int(unknown.sum())}
        for kind in metrics_lib.SCORES:
            score = out[f"score_{kind}"]
            result[f"open_set/auroc_{kind}"] = metrics_lib.auroc(score[keep], score[unknown])
            result[f"open_set/fpr95_{kind}"] = metrics_lib.fpr_at_tpr(score[keep], score[unknown])
        return result


