"""Average precision of single-class detections, computed by pycocotools' COCOeval."""

from __future__ import annotations

import contextlib
import io

import numpy as np

COCO_IOU_THRESHOLDS = tuple(np.round(np.arange(0.5, 0.96, 0.05), 2))
MAX_DETECTIONS = 100  # COCO keeps an image's 100 highest-scoring detections


def _coco_boxes(boxes) -> np.ndarray:
    """(y0, x0, y1, x1) rows -> COCO's (x, y, width, height)."""
    b = np.asarray(boxes, np.float64).reshape(-1, 4)
    return np.stack([b[:, 1], b[:, 0], b[:, 3] - b[:, 1], b[:, 2] - b[:, 0]], axis=1)


def _coco_eval(detections, ground_truth, thresholds):
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    images, annotations, results = [], [], []
    for i, (truth, (boxes, scores)) in enumerate(zip(ground_truth, detections, strict=True)):
        images.append({"id": i})
        for box in _coco_boxes(truth):
            annotations.append({"id": len(annotations) + 1, "image_id": i, "category_id": 1,
                                "bbox": box.tolist(), "area": float(box[2] * box[3]),
                                "iscrowd": 0})
        results += [{"image_id": i, "category_id": 1, "bbox": box.tolist(), "score": float(s)}
                    for box, s in zip(_coco_boxes(boxes), np.asarray(scores).reshape(-1),
                                      strict=True)]
    with contextlib.redirect_stdout(io.StringIO()):  # pycocotools prints its progress
        truth = COCO()
        truth.dataset = {"images": images, "annotations": annotations,
                         "categories": [{"id": 1, "name": "object"}]}
        truth.createIndex()
        found = truth.loadRes(results)
        ev = COCOeval(truth, found, iouType="bbox")
        ev.params.iouThrs = np.asarray(thresholds, np.float64)
        ev.params.maxDets = [MAX_DETECTIONS]
        ev.params.areaRng, ev.params.areaRngLbl = [[0.0, 1e10]], ["all"]
        ev.evaluate()
        ev.accumulate()
    # precision[t, recall point, class, area, max dets]; -1 where nothing was detected
    return np.clip(ev.eval["precision"][:, :, 0, 0, 0], 0.0, None)


def average_precision(detections, ground_truth, *, iou_thresholds=(0.5,)) -> dict[str, float]:
    """COCO's AP of one class, by ``pycocotools.cocoeval.COCOeval``.

    COCO's rules: detections ranked by score over all images, each image's 100 best kept;
    a detection matches the unmatched ground truth with the highest IoU >= the
    threshold (of equal IoUs, the later box); precision made monotone and read at 101
    recall points (0 where recall never reaches them).

    Args:
      detections: per image, (boxes [D, 4], scores [D]) (y0, x0, y1, x1); e.g. the valid
        part of :func:`jaxprior.detection.nms`'s output.
      ground_truth: per image, boxes [G, 4] (G may be 0).
      iou_thresholds: the IoU thresholds.

    Returns:
      {"AP@0.5": ..., ...} per threshold and "AP" (their mean; with
      ``COCO_IOU_THRESHOLDS`` it is COCO's AP@[.5:.95]); nan without ground truth, 0
      with ground truth and no detection.

    Example:
      >>> box = np.array([[0.0, 0.0, 10.0, 10.0]])
      >>> round(average_precision([(box, np.array([0.9]))], [box])["AP@0.5"], 6)
      1.0
    """
    if len(detections) != len(ground_truth):
        raise ValueError(f"average_precision: {len(detections)} detection lists for "
                         f"{len(ground_truth)} images")
    thresholds = [float(t) for t in iou_thresholds]
    if sum(np.asarray(g).reshape(-1, 4).shape[0] for g in ground_truth) == 0:
        per = [float("nan")] * len(thresholds)
    elif sum(np.asarray(s).size for _, s in detections) == 0:
        per = [0.0] * len(thresholds)
    else:
        per = [float(p.mean()) for p in _coco_eval(detections, ground_truth, thresholds)]
    out = {f"AP@{t:g}": p for t, p in zip(thresholds, per, strict=True)}
    out["AP"] = float(np.mean(per))
    return out
