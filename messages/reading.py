"""Vietnamese refusals for a directive that could not be read, each saying what to do instead.

Keys are the reason codes of `bot.services.document_text.Refusal`; `{name}` is the file's name."""

from __future__ import annotations

_PASTE_INSTEAD = "hoặc dán nội dung văn bản vào đây."

FILE_REFUSALS: dict[str, str] = {
    "unsupported_type": (
        "Tôi chưa đọc được tệp {name} vì định dạng này chưa được hỗ trợ. "
        "Đồng chí gửi bản DOCX, PDF có chữ hoặc tệp .txt, " + _PASTE_INSTEAD
    ),
    "no_text_layer": (
        "Tệp {name} không có lớp chữ (có thể là bản scan) nên tôi không đọc được. "
        "Đồng chí gửi bản DOCX hoặc PDF có chữ, " + _PASTE_INSTEAD
    ),
    "encrypted": (
        "Tệp {name} có mật khẩu nên tôi không mở được. Đồng chí gửi bản không đặt mật khẩu, " + _PASTE_INSTEAD
    ),
    "corrupt_file": (
        "Tệp {name} bị hỏng nên tôi không đọc được. Đồng chí mở và lưu lại tệp rồi gửi lại, " + _PASTE_INSTEAD
    ),
    "empty_document": "Tệp {name} không có chữ nào. Đồng chí kiểm tra lại tệp, " + _PASTE_INSTEAD,
    "too_large": (
        "Tệp {name} khi giải nén lớn bất thường so với một văn bản nên tôi không mở. "
        "Đồng chí gửi tệp nhỏ hơn (bỏ bớt hình ảnh, phụ lục), " + _PASTE_INSTEAD
    ),
    "too_heavy": (
        "Tệp {name} quá nặng, tôi không đọc xong trong thời gian cho phép. "
        "Đồng chí gửi tệp nhỏ hơn (chỉ phần văn bản, bỏ hình ảnh, phụ lục), " + _PASTE_INSTEAD
    ),
    "read_failed": "Có lỗi khi đọc tệp {name}. Đồng chí gửi lại tệp, " + _PASTE_INSTEAD,
    "no_ocr": (
        "Tệp {name} là bản scan hoặc ảnh chụp, nhưng máy chủ này chưa cài bộ nhận dạng chữ nên không đọc được "
        "bản scan. Đồng chí gửi bản DOCX hoặc PDF có chữ, " + _PASTE_INSTEAD
    ),
    "scan_unreadable": (
        "Tôi không nhận ra chữ trong bản scan {name} (ảnh mờ, nghiêng nhiều hoặc không phải văn bản). "
        "Đồng chí chụp lại thẳng, đủ sáng, hoặc gửi bản DOCX/PDF có chữ, " + _PASTE_INSTEAD
    ),
}
FILE_REFUSAL_FALLBACK = FILE_REFUSALS["read_failed"]

PASTED_TOO_HEAVY = (
    "Nội dung dán vào quá dài, tôi không đọc xong trong thời gian cho phép. "
    "Đồng chí chỉ dán phần chính của văn bản (từ số, ngày đến phần ký), bỏ phụ lục kèm theo."
)
PASTED_READ_FAILED = "Có lỗi khi đọc nội dung dán vào. Đồng chí dán lại, hoặc gửi tệp DOCX/PDF của văn bản."


def file_refusal(reason: str, name: str) -> str:
    """The message for a file refused for `reason`."""
    return FILE_REFUSALS.get(reason, FILE_REFUSAL_FALLBACK).format(name=name)


def pasted_refusal(reason: str) -> str:
    """The message for pasted text that could not be read (only the worker's limits can refuse it)."""
    return PASTED_TOO_HEAVY if reason == "too_heavy" else PASTED_READ_FAILED
