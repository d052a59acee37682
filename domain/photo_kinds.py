"""What a photo shows (照片类型): a report's 近景 near view of the problem and 远景 far view
of where it is; a check's 处置前 before and 处置后 after. The uploader says which when he
uploads it; the case page and the API show it beside the photo."""

from __future__ import annotations

PHOTO_KINDS: dict[str, tuple[str, str]] = {
    "near": ("近景", "near view"),
    "far": ("远景", "far view"),
    "before": ("处置前", "before"),
    "after": ("处置后", "after"),
}
REPORT_KINDS = ("near", "far")
CHECK_KINDS = ("before", "after")
