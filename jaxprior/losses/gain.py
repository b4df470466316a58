"""GAIN-style attention mining and attention supervision (Li et al., CVPR 2018).

GAIN erases what the attention map covers and asks the classifier to no longer see the
class in what is left, so that the attention spreads over *all* the evidence:

    T(A) = sigmoid(omega * (A - sigma))          soft mask from attention A in [0, 1]
    I*   = I - T(A) * I                          the image with the attended part erased
    L_am = p_y(I*)                               score of the true class on I*

With pixel-level annotations (GAIN_ext) the attention is also pulled towards the mask:
``L_e = mean_hw (A - M)^2``. Here A is the true class's CAM, ReLU'd and normalised to
[0, 1] per example (for a GAP -> Dense network CAM equals Grad-CAM up to scale).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from jaxprior.losses.cam import resize_mask


def class_attention(cam: jax.Array, labels: jax.Array) -> jax.Array:
    """[B, H, W, C] CAM and [B] labels -> [B, H, W] attention in [0, 1] (min-max of ReLU)."""
    if cam.ndim != 4 or labels.shape != cam.shape[:1]:
        raise ValueError(f"class_attention: need cam [B, H, W, C] and labels [B], got "
                         f"{cam.shape} and {labels.shape}")
    a = jax.nn.relu(jnp.take_along_axis(cam, labels[:, None, None, None], axis=-1)[..., 0])
    lo = a.min(axis=(1, 2), keepdims=True)
    hi = a.max(axis=(1, 2), keepdims=True)
    return (a - lo) / jnp.maximum(hi - lo, 1e-6)


def erase_attended(images: jax.Array, attention: jax.Array, *, sigma: float = 0.5,
                   omega: float = 10.0) -> jax.Array:
    """I - T(A) * I with A resized (bilinear) from [B, h, w] to the images' [B, H, W]."""
    b, h, w, _ = images.shape
    a = jax.image.resize(attention, (b, h, w), "bilinear")
    soft = jax.nn.sigmoid(omega * (a - sigma))[..., None]
    return images - soft * images


def attention_mining_loss(masked_logits: jax.Array, labels: jax.Array) -> jax.Array:
    """[B] softmax probability of the true class on the erased images (lower is better).

    Example (the class probability left after erasing what the model attended to):

      >>> masked_logits = jnp.log(jnp.array([[0.9, 0.1], [0.5, 0.5]]))
      >>> attention_mining_loss(masked_logits, jnp.array([0, 1]))
      Array([0.9, 0.5], dtype=float32)
    """
    if masked_logits.ndim != 2 or labels.shape != masked_logits.shape[:1]:
        raise ValueError(f"attention_mining_loss: need logits [B, K] and labels [B], got "
                         f"{masked_logits.shape} and {labels.shape}")
    probs = jax.nn.softmax(masked_logits, axis=-1)
    return jnp.take_along_axis(probs, labels[:, None], axis=-1)[:, 0]


def attention_supervision_loss(attention: jax.Array, object_mask: jax.Array) -> jax.Array:
    """[B] mean squared difference between attention [B, h, w] and the area-resized mask."""
    if attention.ndim != 3 or object_mask.ndim != 3 or attention.shape[0] != object_mask.shape[0]:
        raise ValueError(f"attention_supervision_loss: need attention [B, h, w] and mask "
                         f"[B, H, W], got {attention.shape} and {object_mask.shape}")
    target = resize_mask(object_mask, attention.shape[1:])
    return jnp.mean((attention - target) ** 2, axis=(1, 2))
