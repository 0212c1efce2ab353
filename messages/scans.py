"""What the board reads while a scan (an image-only PDF, a photo of the paper) is read, and in its preview."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

READING = "Đang nhận dạng chữ trong bản scan {name} ({pages} trang), đồng chí chờ trong giây lát…"
READING_PAGES = "Đang nhận dạng chữ trong bản scan {name}: đã đọc {done}/{total} trang…"
# A progress line every this many pages, after the first message (Zalo cannot edit a message: no flood).
PAGES_PER_UPDATE = 3

_FROM_SCAN = "📷 Đọc từ bản scan ({pages}): chữ do máy nhận dạng nên có thể sai."
_PAGES = "{pages} trang"
_PAGES_OF = "{pages}/{total} trang đầu"
_CHECK = "Đồng chí đối chiếu với bản giấy, nhất là: {fields}."
_CHECK_ALL = "Đồng chí đối chiếu các mục với bản giấy trước khi gửi."


def preview_note(scan: Mapping[str, object] | None, labels: Mapping[str, str]) -> str | None:
    """The lines above the preview of a draft read from a scan; None for a draft read from text."""
    if not scan:
        return None
    pages, total = int(str(scan.get("pages") or 1)), int(str(scan.get("total_pages") or 1))
    count = _PAGES.format(pages=pages) if pages >= total else _PAGES_OF.format(pages=pages, total=total)
    check = scan.get("check")
    fields = [labels[key] for key in check if key in labels] if isinstance(check, Sequence) else []
    advice = _CHECK.format(fields=", ".join(fields)) if fields else _CHECK_ALL
    return f"{_FROM_SCAN.format(pages=count)}\n{advice}"
