"""Writes a labelled PNG grid of examples with the bird mask and head box drawn on.

  python -m jaxprior.data.show --split test_shift --out grid.png
  python -m jaxprior.data.show --dataset synthetic_birds/128px --split test_conflict \
      --num 24 --out conflict.png

Generates the synthetic benchmark first if it is not on disk.
"""

from __future__ import annotations

import argparse

import matplotlib.pyplot as plt
import numpy as np

from jaxprior.data import sources


def _caption(ex: dict, spec: sources.DatasetSpec) -> str:
    species = spec.name_of("species", int(ex["species"]))
    label = spec.name_of("label", int(ex["label"]))
    text = species if species == label else f"{species} ({label})"
    if int(ex["background"]) >= 0:
        text += f"\n@{spec.name_of('background', int(ex['background']))}"
    if int(ex["texture_id"]) >= 0 and ex["texture_id"] != ex["shape_id"]:
        text += f"\ntexture: {spec.name_of('species', int(ex['texture_id']))}"
    return text


def draw_grid(examples: list[dict], spec: sources.DatasetSpec, *, cols: int = 8):
    """A matplotlib figure: each example with its bird mask (cyan) and head box (red)."""
    rows = -(-len(examples) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(1.9 * cols, 2.2 * rows), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, ex in zip(axes.ravel(), examples, strict=False):
        image = ex["image"]
        size = image.shape[0]
        ax.imshow(image, interpolation="nearest")
        if ex["bird_mask"].any():
            ax.contour(ex["bird_mask"], levels=[0.5], colors="cyan", linewidths=0.8)
        y0, x0, y1, x1 = np.asarray(ex["head_box"]) * size
        if y1 > y0:
            ax.add_patch(plt.Rectangle((x0 - 0.5, y0 - 0.5), x1 - x0, y1 - y0, fill=False,
                                       edgecolor="red", linewidth=1.0))
        ax.set_title(_caption(ex, spec), fontsize=7)
    fig.tight_layout()
    return fig


def main(argv=None):
    parser = argparse.ArgumentParser(description="Labelled sample grid of a dataset split.")
    parser.add_argument("--dataset", default="synthetic_birds/64px")
    parser.add_argument("--split", default="train")
    parser.add_argument("--out", default="grid.png")
    parser.add_argument("--num", type=int, default=32)
    parser.add_argument("--cols", type=int, default=8)
    parser.add_argument("--image_size", type=int, default=None,
                        help="image side (default: the synthetic config's; 64 otherwise)")
    parser.add_argument("--data_dir", default=None)
    parser.add_argument("--seed", type=int, default=0, help="which examples are drawn")
    args = parser.parse_args(argv)

    spec = sources.get_spec(args.dataset)
    size = args.image_size
    if size is None:
        size = 64
        if spec.name == "synthetic_birds":
            size = sources.synthetic_image_size(args.dataset)
    sources.prepare(args.dataset, data_dir=args.data_dir)
    ds = sources.load_split(args.dataset, args.split, image_size=size, data_dir=args.data_dir)
    rng = np.random.default_rng(args.seed)
    picks = rng.choice(len(ds), size=min(args.num, len(ds)), replace=False)
    fig = draw_grid([ds[int(i)] for i in sorted(picks)], spec, cols=args.cols)
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out}: {len(picks)} examples of {args.dataset} {args.split}")


if __name__ == "__main__":
    main()
