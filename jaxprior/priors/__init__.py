"""Priors as plugins, one module each, registered by name (see :mod:`jaxprior.priors.base`).

Each module owns everything about its prior: the config block ``config.priors.<name>``
with its defaults and checks, the model branch it adds, the batch transform, its
training term, its state, and its evaluation outputs and metrics. The training core
enumerates :data:`REGISTRY` and names none of them. Registered here, in this order (the
order their terms, branches and transforms are applied in):

  cam, cam_evidence, rrr, gain    where the evidence lies (CAM restriction, its
                                  evaluation, Right for the Right Reasons, GAIN)
  mask_head, detection            training-only branches reproducing a part
  aux_heads                       auxiliary classifiers, DANN's reversed heads
  texture_randomization, jigsaw   shape-bias remedies applied to the batch
  maxl                            generated auxiliary labels (its own train step)
  open_set                        held-out species, rejected at evaluation
  pretrained                      a backbone initialised from another run
  group_balance, group_dro, jtt,  the spurious-correlation literature's remedies: group
  dfr                             reweighting / resampling, GroupDRO, JTT's upweighted
                                  errors, DFR's last layer refitted on held-out data

Architectural priors (BlurPool, CoordConv, padding modes, MixStyle) are model options
(``config.model.kwargs``): they change layers inside the backbone, not what is trained
on. The two-stream input is a model (``config.model.name = "two_stream"``) whose extra
input, the head box, is declared by its ``input_keys`` and checked against the dataset
like a prior's fields.
"""

# Registration order is application order.
from jaxprior.priors import (
    aux_heads,
    cam,
    detection,
    gain,
    group_robust,
    jigsaw,
    last_layer,
    mask_head,
    maxl,
    open_set,
    pretrained,
    rrr,
    texture,
)
from jaxprior.priors.base import (
    REGISTRY,
    Context,
    Prior,
    Task,
    enabled,
    overrides,
    register,
    unregister,
)

__all__ = ["REGISTRY", "Context", "Prior", "Task", "aux_heads", "cam", "detection",
           "enabled", "gain", "group_robust", "jigsaw", "last_layer", "mask_head", "maxl",
           "open_set", "overrides", "pretrained", "register", "rrr", "texture", "unregister"]
