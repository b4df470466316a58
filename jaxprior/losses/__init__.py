"""Pure, jit-able losses of the priors; each returns per-example values [B]."""

from jaxprior.losses.auxiliary import auxiliary_cross_entropy, auxiliary_keep
from jaxprior.losses.cam import (
    binary_cam,
    cam_evidence,
    cam_restriction_loss,
    class_activation_map,
    resize_mask,
)
from jaxprior.losses.detection import (
    detection_loss,
    giou_loss,
    sigmoid_focal_loss,
    smooth_l1_loss,
)
from jaxprior.losses.gain import (
    attention_mining_loss,
    attention_supervision_loss,
    class_attention,
    erase_attended,
)
from jaxprior.losses.group_robust import (
    balanced_weights,
    group_dro_update,
    group_ids,
    group_mean_losses,
)
from jaxprior.losses.jigsaw import (
    hamming_permutations,
    jigsaw_batch,
    jigsaw_loss,
    jigsaw_terms,
    shuffle_tiles,
)
from jaxprior.losses.mask import mask_reproduction_loss
from jaxprior.losses.maxl import focal_loss, focal_terms, hierarchical_mask, mask_softmax
from jaxprior.losses.rrr import log_prob_input_gradients, rrr_loss

__all__ = [
    "attention_mining_loss",
    "attention_supervision_loss",
    "auxiliary_cross_entropy",
    "auxiliary_keep",
    "balanced_weights",
    "binary_cam",
    "cam_evidence",
    "cam_restriction_loss",
    "class_activation_map",
    "class_attention",
    "detection_loss",
    "erase_attended",
    "focal_loss",
    "focal_terms",
    "giou_loss",
    "group_dro_update",
    "group_ids",
    "group_mean_losses",
    "hamming_permutations",
    "hierarchical_mask",
    "jigsaw_batch",
    "jigsaw_loss",
    "jigsaw_terms",
    "log_prob_input_gradients",
    "mask_reproduction_loss",
    "mask_softmax",
    "resize_mask",
    "rrr_loss",
    "shuffle_tiles",
    "sigmoid_focal_loss",
    "smooth_l1_loss",
]
