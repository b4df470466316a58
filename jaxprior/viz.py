"""Figures: class activation maps over images (in the survey's colour convention), shape
bias per class and method (in the style of Geirhos et al. 2019) and forest plots of
paired effects."""

from __future__ import annotations

import jax
import matplotlib.pyplot as plt
import numpy as np


def upsample(maps: np.ndarray, size: int) -> np.ndarray:
    """[N, h, w] -> [N, size, size], bilinear."""
    maps = np.asarray(maps, np.float32)
    return np.asarray(jax.image.resize(maps, (maps.shape[0], size, size), "bilinear"))


def cam_overlays(images: np.ndarray, maps: dict[str, np.ndarray], *, masks=None,
                 titles=None, alpha: float = 0.55):
    """A grid: one column per image, the image then one row per model's map over it.

    Args:
      images: [N, S, S, 3] uint8.
      maps: model name -> [N, h, w] single-logit CAMs (``binary_cam``): negative values
        (evidence for class 0, the kakapo) drawn cold/blue, positive (other birds) warm/red,
        as in the survey; each map is scaled by its own largest magnitude.
      masks: optional [N, S, S] object masks, drawn as white contours.
      titles: optional per-image column titles.
    """
    n, size = images.shape[0], images.shape[1]
    rows = 1 + len(maps)
    fig, axes = plt.subplots(rows, n, figsize=(1.7 * n, 1.75 * rows), squeeze=False)
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    for j in range(n):
        axes[0, j].imshow(images[j])
        if titles is not None:
            axes[0, j].set_title(titles[j], fontsize=7)
    axes[0, 0].set_ylabel("image", fontsize=8)
    for i, (name, m) in enumerate(maps.items(), start=1):
        up = upsample(m, size)
        for j in range(n):
            ax = axes[i, j]
            ax.imshow(images[j])
            lim = max(float(np.abs(up[j]).max()), 1e-6)
            ax.imshow(up[j], cmap="coolwarm", vmin=-lim, vmax=lim, alpha=alpha)
            if masks is not None:
                ax.contour(masks[j], levels=[0.5], colors="white", linewidths=0.6)
        axes[i, 0].set_ylabel(name, fontsize=8)
    fig.tight_layout()
    return fig


# Geirhos et al. 2019 (ImageNet, 16 classes), drawn as reference lines, not measured here.
PAPER_SHAPE_BIAS = {"humans (paper)": 0.96, "ResNet-50 (paper)": 0.22}


def shape_bias_plot(per_class: dict[str, np.ndarray], overall: dict[str, float], *,
                    class_names, references=PAPER_SHAPE_BIAS):
    """Geirhos et al.'s plot: one row per (shape) class, the fraction of shape decisions on
    the x axis (texture at 0, shape at 1), one marker per method at each class and a
    vertical line at each method's overall shape bias; `references` as grey dashed lines.

    Args:
      per_class: method -> [K] per-class shape bias (nan where nothing was kept).
      overall: method -> overall shape bias.
      class_names: K row labels.
    """
    k = len(class_names)
    fig, ax = plt.subplots(figsize=(6, 0.35 * k + 1.6))
    ys = np.arange(k)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, (name, values) in enumerate(per_class.items()):
        color = colors[i % len(colors)]
        ax.plot(values, ys, "o", color=color, label=f"{name} ({overall[name]:.2f})")
        ax.axvline(overall[name], color=color, lw=1)
    for j, (name, value) in enumerate(references.items()):
        ax.axvline(value, color="grey", ls=("--", ":")[j % 2], lw=1, label=f"{name} {value:.2f}")
    ax.set_yticks(ys, class_names)
    ax.set_xlim(-0.02, 1.02)
    ax.set_xlabel("fraction of shape decisions (0 = texture, 1 = shape)")
    ax.invert_yaxis()
    ax.grid(alpha=0.3, axis="x")
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2)
    fig.tight_layout()
    return fig


VERDICT_COLORS = {"supported": "tab:green", "contradicted": "tab:red",
                  "inconclusive": "tab:grey"}


def forest_plot(effects: dict[str, dict[str, dict]], metrics, *, title: str = ""):
    """One panel per metric: each variant's mean paired difference from the baseline
    (dot) and its confidence interval (bar), coloured by verdict, 0 marked.

    Args:
      effects: variant -> metric -> an effect of
        :func:`jaxprior.train.effects.paired_effects` (those without a ``diff`` skipped).
      metrics: the metrics to draw, one panel each.
    """
    metrics = list(metrics)
    names = list(effects)
    fig, axes = plt.subplots(1, len(metrics), figsize=(3.2 * len(metrics) + 1.5,
                                                        0.4 * len(names) + 1.4),
                             sharey=True, squeeze=False)
    ys = np.arange(len(names))
    for ax, metric in zip(axes[0], metrics, strict=True):
        for y, name in zip(ys, names, strict=True):
            e = effects[name].get(metric, {})
            if "diff" not in e:
                continue
            color = VERDICT_COLORS.get(e["verdict"], "black")
            ax.plot([e["ci_low"], e["ci_high"]], [y, y], color=color, lw=2)
            ax.plot(e["diff"], y, "o", color=color)
        ax.axvline(0, color="black", lw=0.8)
        ax.set_title(metric, fontsize=8)
        ax.grid(alpha=0.3, axis="x")
        ax.tick_params(labelsize=7)
    axes[0][0].set_yticks(ys, names)
    axes[0][0].invert_yaxis()
    handles = [plt.Line2D([], [], color=c, marker="o", lw=2, label=v)
               for v, c in VERDICT_COLORS.items()]
    fig.legend(handles=handles, loc="lower center", ncol=3, fontsize=7, frameon=False)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return fig
