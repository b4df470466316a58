"""Average precision of single-class detections (COCO's definition), on host arrays."""

from __future__ import annotations

import numpy as np

COCO_IOU_THRESHOLDS = tuple(np.round(np.arange(0.5, 0.96, 0.05), 2))


def _iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    lo = np.maximum(a[:, None, :2], b[None, :, :2])
    hi = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(hi - lo, 0, None), -1)
    area_a = np.prod(np.clip(a[:, 2:] - a[:, :2], 0, None), -1)
    area_b = np.prod(np.clip(b[:, 2:] - b[:, :2], 0, None), -1)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def _ap_at(detections, ground_truth, threshold: float) -> float:
    num_gt = sum(len(g) for g in ground_truth)
    if num_gt == 0:
        return float("nan")
    records = []  # (score, image, detection index)
    for i, (_, scores) in enumerate(detections):
        records += [(float(s), i, j) for j, s in enumerate(scores)]
    if not records:
        return 0.0  # objects to find, nothing detected
    records.sort(key=lambda r: -r[0])  # stable: ties keep image / detection order
    taken = [np.zeros(len(g), bool) for g in ground_truth]
    ious = [_iou(np.asarray(d[0], np.float64).reshape(-1, 4),
                 np.asarray(g, np.float64).reshape(-1, 4)) for d, g in
            zip(detections, ground_truth, strict=True)]
    tp = np.zeros(len(records))
    for r, (_, i, j) in enumerate(records):
        if not len(ground_truth[i]):
            continue
        candidates = np.where(taken[i], -1.0, ious[i][j])
        best = int(np.argmax(candidates))
        if candidates[best] >= threshold:
            taken[i][best] = True
            tp[r] = 1
    hits = np.cumsum(tp)
    recall = hits / num_gt
    precision = hits / np.arange(1, len(records) + 1)
    # COCO: precision made monotone, sampled at 101 recall points (0 where unreached).
    envelope = np.maximum.accumulate(precision[::-1])[::-1]
    points = np.linspace(0, 1, 101)
    idx = np.searchsorted(recall, points, side="left")
    sampled = np.where(idx < len(envelope), envelope[np.minimum(idx, len(envelope) - 1)], 0.0)
    return float(np.mean(sampled))


def average_precision(detections, ground_truth, *, iou_thresholds=(0.5,)) -> dict[str, float]:
    """COCO-style AP of one class.

    Args:
      detections: per image, (boxes [D, 4], scores [D]) (y0, x0, y1, x1); e.g. the valid
        part of :func:`jaxprior.detection.nms`'s output.
      ground_truth: per image, boxes [G, 4] (G may be 0).
      iou_thresholds: a detection matches the highest-IoU unmatched ground truth of its
        image when that IoU is >= the threshold; detections are visited by decreasing
        score.

    Returns:
      {"AP@0.5": ..., ...} per threshold and "AP" (their mean; with
      ``COCO_IOU_THRESHOLDS`` it is COCO's AP@[.5:.95]); nan without ground truth.
    """
    if len(detections) != len(ground_truth):
        raise ValueError(f"average_precision: {len(detections)} detection lists for "
                         f"{len(ground_truth)} images")
    out = {f"AP@{t:g}": _ap_at(detections, ground_truth, t) for t in iou_thresholds}
    out["AP"] = float(np.mean(list(out.values())))
    return out
