"""Convolution with a fast path for XLA:CPU, padding modes (zero, reflect, circular,
full), and the helpers a backbone needs to switch between them.

XLA:CPU's convolution is pathologically slow on tiny spatial maps (jax 0.10.2, 2-core
x86-64 CPU: a 3x3 SAME conv on a 2x2x512 map, batch 32, forward plus gradient, 821 ms;
as patches + matmul, 14 ms; ``benchmarks/conv_lowering.py``). :func:`conv2d` therefore
lowers a convolution either to ``lax.conv_general_dilated`` or to an im2col matmul, per
shape, by the measured rule in :func:`choose_impl` (the plain-XLA column of
``benchmarks/step_time.py`` shows what it saves in whole train steps).
On GPU/TPU the rule always picks XLA's convolution.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx
from jax import lax

IMPLS = ("auto", "xla", "im2col")
PAD_MODES = {"zero": "constant", "reflect": "reflect", "circular": "wrap"}
HE_NORMAL = nnx.initializers.variance_scaling(2.0, "fan_out", "normal")


def _pads(padding, kh, kw):
    if padding == "VALID":
        return ((0, 0), (0, 0))
    if padding == "FULL":  # every output that sees at least one input pixel
        return ((kh - 1, kh - 1), (kw - 1, kw - 1))
    if padding == "SAME":
        if kh % 2 == 0 or kw % 2 == 0:
            raise ValueError(f"padding='SAME' needs an odd kernel, got {kh}x{kw}; pass an int")
        return ((kh // 2, kh // 2), (kw // 2, kw // 2))
    if isinstance(padding, int) and padding >= 0:
        return ((padding, padding), (padding, padding))
    raise ValueError(f"padding must be 'SAME', 'VALID', 'FULL' or an int >= 0, got {padding!r}")


def choose_impl(height: int, width: int, in_features: int, kernel_size: tuple[int, int],
                backend: str | None = None, *, wider_than_same: bool = False) -> str:
    """The faster lowering for an output map of height x width, by measurement on CPU.

    im2col (patches + one matmul) wins on maps of at most 4x4 outputs (XLA:CPU's slow
    case), on stems with at most 3 input channels, and on padding wider than SAME
    (full convolution: XLA:CPU's kernel gradient is slow there; a 3x3 FULL conv on a
    40x40x32 map, batch 128, forward plus gradient, 3428 ms against 437 ms as im2col,
    jax 0.10.2, 2-core x86-64 CPU); XLA's convolution elsewhere. The measurements:
    ``python benchmarks/conv_lowering.py`` (``benchmarks/results/conv_lowering_cpu.md``).
    """
    backend = backend or jax.default_backend()
    if backend != "cpu":
        return "xla"
    if height * width <= 16 or in_features <= 3 or wider_than_same:
        return "im2col"
    return "xla"


def conv2d(x: jax.Array, kernel: jax.Array, *, stride: int = 1, padding="SAME",
           pad_mode: str = "zero", impl: str = "auto") -> jax.Array:
    """2-D convolution, NHWC input and HWIO kernel.

    Args:
      x: [B, H, W, C_in].
      kernel: [kh, kw, C_in, C_out].
      stride: the same stride on both axes.
      padding: "SAME" (k // 2 on each side, odd kernels), "VALID", "FULL" (k - 1 on each
        side: the map grows), or an int.
      pad_mode: what the padding holds: "zero", "reflect" or "circular".
      impl: "auto" (by :func:`choose_impl`), "xla" or "im2col"; same result either way.
    Returns:
      [B, H', W', C_out].
    """
    if x.ndim != 4:
        raise ValueError(f"conv2d expects x of rank 4 [B, H, W, C], got shape {x.shape}")
    kh, kw, cin, cout = kernel.shape
    if x.shape[-1] != cin:
        raise ValueError(f"conv2d: x has {x.shape[-1]} channels, the kernel expects {cin}")
    if impl not in IMPLS:
        raise ValueError(f"conv2d: impl must be one of {IMPLS}, got {impl!r}")
    if pad_mode not in PAD_MODES:
        raise ValueError(f"conv2d: pad_mode must be one of {sorted(PAD_MODES)}, got "
                         f"{pad_mode!r}")
    (pt, pb), (pl, pr) = _pads(padding, kh, kw)
    if pad_mode != "zero" and max(pt, pb, pl, pr) > 0:
        x = jnp.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0)), mode=PAD_MODES[pad_mode])
        (pt, pb), (pl, pr) = (0, 0), (0, 0)
    b, h, w, _ = x.shape
    ho, wo = (h + pt + pb - kh) // stride + 1, (w + pl + pr - kw) // stride + 1
    if kh == kw == 1 and pt == pb == pl == pr == 0:  # a 1x1 conv is a matmul
        return x[:, ::stride, ::stride, :] @ kernel[0, 0]
    if impl == "auto":
        impl = choose_impl(ho, wo, cin, (kh, kw),
                           wider_than_same=max(pt, pb) > kh // 2 or max(pl, pr) > kw // 2)
    if impl == "xla":
        return lax.conv_general_dilated(x, kernel, (stride, stride), ((pt, pb), (pl, pr)),
                                        dimension_numbers=("NHWC", "HWIO", "NHWC"))
    xp = jnp.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0)))
    span_h, span_w = stride * (ho - 1) + 1, stride * (wo - 1) + 1
    patches = jnp.concatenate(
        [xp[:, i:i + span_h:stride, j:j + span_w:stride, :] for i in range(kh) for j in range(kw)],
        axis=-1)
    return (patches.reshape(b * ho * wo, kh * kw * cin) @ kernel.reshape(-1, cout)).reshape(
        b, ho, wo, cout)


class Conv(nnx.Module):
    """NNX convolution using :func:`conv2d` (parameters named like ``nnx.Conv``'s)."""

    def __init__(self, in_features: int, out_features: int, kernel_size: int = 3, *,
                 stride: int = 1, padding="SAME", pad_mode: str = "zero", use_bias: bool = False,
                 impl: str = "auto", kernel_init=HE_NORMAL, rngs: nnx.Rngs):
        if impl not in IMPLS:
            raise ValueError(f"Conv: impl must be one of {IMPLS}, got {impl!r}")
        if pad_mode not in PAD_MODES:
            raise ValueError(f"Conv: pad_mode must be one of {sorted(PAD_MODES)}, got "
                             f"{pad_mode!r}")
        _pads(padding, kernel_size, kernel_size)  # validates early
        self.kernel = nnx.Param(
            kernel_init(rngs.params(), (kernel_size, kernel_size, in_features, out_features)))
        self.bias = nnx.Param(jnp.zeros((out_features,))) if use_bias else None
        self.stride, self.padding, self.pad_mode, self.impl = stride, padding, pad_mode, impl

    def __call__(self, x: jax.Array) -> jax.Array:
        kernel = self.kernel[...]
        # computes in the kernel's dtype (a bfloat16 forward casts the parameters; the
        # BatchNorm in front may hand over float32, as it reduces in float32)
        y = conv2d(x.astype(kernel.dtype), kernel, stride=self.stride, padding=self.padding,
                   pad_mode=self.pad_mode, impl=self.impl)
        return y if self.bias is None else y + self.bias[...]


PADDINGS = ("zero", "reflect", "circular", "full")


def padding_args(padding_mode: str) -> dict:
    """:class:`Conv` arguments of a backbone-wide padding mode: "zero", "reflect" or
    "circular" SAME padding, or "full" convolution (k - 1 zeros: maps grow)."""
    if padding_mode not in PADDINGS:
        raise ValueError(f"padding_mode must be one of {PADDINGS}, got {padding_mode!r}")
    if padding_mode == "full":
        return {"padding": "FULL", "pad_mode": "zero"}
    return {"padding": "SAME", "pad_mode": padding_mode}


def center_pad_to(x: jax.Array, height: int, width: int) -> jax.Array:
    """Zero-pads x [B, h, w, C] around its centre to [B, height, width, C] (the identity
    branch of a full-convolution block, whose main branch grows the map)."""
    dh, dw = height - x.shape[1], width - x.shape[2]
    if dh < 0 or dw < 0:
        raise ValueError(f"center_pad_to: cannot pad {x.shape[1]}x{x.shape[2]} to "
                         f"{height}x{width}")
    return jnp.pad(x, ((0, 0), (dh // 2, dh - dh // 2), (dw // 2, dw - dw // 2), (0, 0)))
