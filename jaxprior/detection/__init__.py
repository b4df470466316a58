"""Detection primitives, pure and jit-able, boxes as (y0, x0, y1, x1): anchors,
IoU, anchor assignment, box encoding, non-maximum suppression. Their losses are in
``jaxprior.losses.detection``."""

from jaxprior.detection.anchors import IGNORE, NEGATIVE, POSITIVE, make_anchors, match_anchors
from jaxprior.detection.boxes import (
    box_area,
    box_iou,
    decode_boxes,
    encode_boxes,
    generalized_iou,
)
from jaxprior.detection.inference import detect, flatten_levels, level_anchors
from jaxprior.detection.nms import batched_nms, nms

__all__ = ["IGNORE", "NEGATIVE", "POSITIVE", "batched_nms", "box_area", "box_iou",
           "decode_boxes", "detect", "encode_boxes", "flatten_levels", "generalized_iou",
           "level_anchors", "make_anchors", "match_anchors", "nms"]
