"""CAM-restriction prior: the background may carry evidence *against* a
class, never *for* it.

Class activation map (Zhou et al. 2016) of a network that ends in global average pooling
and a Dense layer with kernel w [D, C] and bias b [C]:

    CAM_c(i, j) = sum_k w[k, c] F_k(i, j),     mean_ij CAM_c(i, j) + b_c = logit_c.

The seed's binary setting has one logit whose negative side is the target (the kakapo,
label 0): ``Loss_cam = -sum(where(outside & cam < 0, cam, 0))``, i.e. the kakapo's
evidence (negative activation) is suppressed outside the bird. The softmax
generalisation penalises, for each class c that may not draw evidence from the
background, its centred evidence ``relu(CAM_c - mean_k CAM_k)`` outside the object.
For a two-class softmax model, :func:`binary_cam` gives the single-logit map
``CAM_1 - CAM_0`` whose negative side is class 0.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from jaxprior.checks import check_unit_interval

REDUCTIONS = ("sum", "mean")


def class_activation_map(features: jax.Array, kernel: jax.Array,
                         bias: jax.Array | None = None) -> jax.Array:
    """CAM of every class.

    Args:
      features: [B, H, W, D] last conv feature map (before global average pooling).
      kernel: [D, C] the classifier's Dense kernel.
      bias: optional [C]; when given it is added at every position, so that
        ``cam.mean((1, 2)) == logits`` exactly.
    Returns:
      [B, H, W, C].

    Example (GAP -> Dense: the CAM's spatial mean is the logit without its bias):

      >>> features = jnp.ones((1, 2, 2, 3))
      >>> kernel = jnp.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
      >>> cam = class_activation_map(features, kernel)
      >>> cam.shape, cam.mean((1, 2))
      ((1, 2, 2, 2), Array([[2., 2.]], dtype=float32))
    """
    if features.ndim != 4:
        raise ValueError(f"class_activation_map: features must be [B, H, W, D], got shape "
                         f"{features.shape}")
    if kernel.ndim != 2 or kernel.shape[0] != features.shape[-1]:
        raise ValueError(f"class_activation_map: kernel must be [D={features.shape[-1]}, C], "
                         f"got shape {kernel.shape}")
    cam = jnp.einsum("bhwd,dc->bhwc", features, kernel)
    return cam if bias is None else cam + bias


def binary_cam(cam: jax.Array) -> jax.Array:
    """[B, H, W, 2] two-class CAM -> [B, H, W, 1] single-logit map ``CAM_1 - CAM_0``.

    Its spatial mean (plus b_1 - b_0) is the logit difference; negative values are
    evidence for class 0, the seed's convention (kakapo = label 0).
    """
    if cam.ndim != 4 or cam.shape[-1] != 2:
        raise ValueError(f"binary_cam: expected a two-class CAM [B, H, W, 2], got shape "
                         f"{cam.shape}")
    return cam[..., 1:2] - cam[..., 0:1]


@functools.lru_cache(maxsize=64)
def _area_matrix(n_in: int, n_out: int) -> np.ndarray:
    """[n_out, n_in] weights of an exact area (box) resize along one axis."""
    edges = np.arange(n_out + 1) * (n_in / n_out)
    lo, hi = edges[:-1, None], edges[1:, None]
    pix = np.arange(n_in)[None, :]
    overlap = np.clip(np.minimum(hi, pix + 1) - np.maximum(lo, pix), 0.0, None)
    return (overlap / (n_in / n_out)).astype(np.float32)


def resize_mask(mask: jax.Array, shape: tuple[int, int]) -> jax.Array:
    """Area-average resize of masks [B, Hm, Wm] to [B, H, W] (any sizes, not only divisors).

    Each output cell is the mean of the input over the cell's exact footprint, so a
    binary mask becomes the fraction of each cell it covers.
    """
    if mask.ndim != 3:
        raise ValueError(f"resize_mask: mask must be [B, Hm, Wm], got shape {mask.shape}")
    a_h = _area_matrix(mask.shape[1], shape[0])
    a_w = _area_matrix(mask.shape[2], shape[1])
    return jnp.einsum("hi,bij,wj->bhw", a_h, mask.astype(jnp.float32), a_w)


def _check(cam, object_mask, where):
    if cam.ndim != 4:
        raise ValueError(f"{where}: cam must be [B, H, W, C], got shape {cam.shape}")
    if object_mask.ndim != 3:
        raise ValueError(f"{where}: object_mask must be [B, Hm, Wm], got shape "
                         f"{object_mask.shape}")
    if object_mask.shape[0] != cam.shape[0]:
        raise ValueError(f"{where}: object_mask has batch {object_mask.shape[0]} but cam has "
                         f"batch {cam.shape[0]}")
    check_unit_interval(object_mask, where=where, name="object_mask")


def cam_restriction_loss(cam: jax.Array, object_mask: jax.Array, *,
                         restricted_classes: Sequence[int] | None = None, binary: bool = False,
                         reduction: str = "mean") -> jax.Array:
    """Penalises evidence for restricted classes outside the object; per example.

    Args:
      cam: [B, H, W, C] class activation map; with ``binary=True`` a single-logit map
        [B, H, W, 1] whose negative side is the target class (see :func:`binary_cam`).
      object_mask: [B, Hm, Wm] in [0, 1] (binary or soft), at any resolution; it is
        area-resized to H x W and ``outside = 1 - mask``.
      restricted_classes: classes that may not draw evidence from the background
        (required unless ``binary``).
      binary: the seed's form, ``sum(outside * max(-cam, 0))``.
      reduction: "sum" over positions (the seed), or "mean": divided by the outside
        area (so the weight is independent of the map size); 0 where nothing is outside.
    Returns:
      [B] loss per example.

    Math (softmax form):
      ``L = R( outside * sum_{c in restricted} relu(CAM_c - mean_k CAM_k) )`` with R the
      reduction over positions.

    Example (the binary form: kakapo evidence, negative values, outside the bird):

      >>> cam = jnp.array([-2.0, 1.0, -1.0, 3.0]).reshape(1, 2, 2, 1)
      >>> bird = jnp.array([[1, 0], [0, 0]])[None]  # the bird covers the top-left cell
      >>> cam_restriction_loss(cam, bird, binary=True, reduction="sum")
      Array([1.], dtype=float32)
    """
    _check(cam, object_mask, "cam_restriction_loss")
    if reduction not in REDUCTIONS:
        raise ValueError(f"cam_restriction_loss: reduction must be one of {REDUCTIONS}, got "
                         f"{reduction!r}")
    outside = 1.0 - resize_mask(object_mask, cam.shape[1:3])
    if binary:
        if cam.shape[-1] != 1:
            raise ValueError("cam_restriction_loss: binary=True needs a single-logit cam "
                             f"[B, H, W, 1], got {cam.shape[-1]} channels (use binary_cam)")
        evidence = jax.nn.relu(-cam[..., 0])
    else:
        if restricted_classes is None or len(restricted_classes) == 0:
            raise ValueError("cam_restriction_loss: restricted_classes is required when "
                             "binary=False")
        n = cam.shape[-1]
        bad = [c for c in restricted_classes if not 0 <= c < n]
        if bad:
            raise ValueError(f"cam_restriction_loss: restricted class {bad[0]} out of range "
                             f"[0, {n})")
        centred = cam - jnp.mean(cam, axis=-1, keepdims=True)
        evidence = jax.nn.relu(centred[..., jnp.asarray(list(restricted_classes))]).sum(-1)
    total = jnp.sum(outside * evidence, axis=(1, 2))
    if reduction == "sum":
        return total
    area = jnp.sum(outside, axis=(1, 2))
    return jnp.where(area > 0, total / jnp.maximum(area, 1e-12), 0.0)


def cam_evidence(cam: jax.Array, object_mask: jax.Array, *, target_class: int = 0
                 ) -> tuple[jax.Array, jax.Array]:
    """A class's positive evidence outside the object and in total, per example.

    Evidence of class c is ``relu(CAM_c - mean_k CAM_k)`` (for two classes, half the
    seed's negative single-logit activation). The *background evidence share* of a set
    of images is ``sum(outside) / sum(total)`` over them.

    Args:
      cam: [B, H, W, C].
      object_mask: [B, Hm, Wm] in [0, 1].
      target_class: c.
    Returns:
      (outside [B], total [B]).
    """
    _check(cam, object_mask, "cam_evidence")
    if not 0 <= target_class < cam.shape[-1]:
        raise ValueError(f"cam_evidence: target_class {target_class} out of range "
                         f"[0, {cam.shape[-1]})")
    evidence = jax.nn.relu(cam[..., target_class] - jnp.mean(cam, axis=-1))
    outside = 1.0 - resize_mask(object_mask, cam.shape[1:3])
    return jnp.sum(outside * evidence, axis=(1, 2)), jnp.sum(evidence, axis=(1, 2))
