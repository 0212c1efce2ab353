"""The board's evidence photo page, opened from a row of the Excel export (HTML, Vietnamese)."""

from __future__ import annotations

from html import escape

PAGE = """<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow"><meta name="referrer" content="no-referrer">
<title>{title}</title>
<style>body{{font-family:sans-serif;max-width:48em;margin:1.5em auto;padding:0 1em;line-height:1.5}}
img{{display:block;max-width:100%;height:auto;margin:1em 0;border:1px solid #ccc}}</style>
</head><body><h1>{title}</h1><p>{lead}</p>{images}
<p><small>{note}</small></p></body></html>"""
IMAGE = '<a href="{src}"><img src="{src}" alt="{alt}" loading="lazy"></a>'

TITLE = "Ảnh minh chứng"
LEAD = "{unit} – báo cáo theo {number}: {count} ảnh."
ALT = "Ảnh minh chứng {index}"
NOTE = "Trang này chỉ mở được bằng đường link trong tệp Excel của Ban, và hết hạn sau một thời gian."
NO_PHOTO = "Báo cáo mới nhất của chi bộ không còn ảnh minh chứng."
MISSING_TITLE = "Không tìm thấy báo cáo"
MISSING_BODY = "Chi bộ chưa có báo cáo cho văn bản này, hoặc báo cáo đã bị xoá."
EXPIRED_BODY = "Đường link xem ảnh này đã hết hạn. Đồng chí xuất lại tệp Excel (/xuat) để có đường link mới."
TAMPERED_BODY = "Đường link xem ảnh này không đúng hoặc đã bị sửa. Đồng chí mở lại từ tệp Excel của Ban."


def page(unit: str, number: str, sources: list[str]) -> str:
    images = "".join(
        IMAGE.format(src=escape(src), alt=escape(ALT.format(index=index)))
        for index, src in enumerate(sources, start=1)
    )
    lead = LEAD.format(unit=unit, number=number, count=len(sources)) if sources else NO_PHOTO
    return PAGE.format(title=escape(TITLE), lead=escape(lead), images=images, note=escape(NOTE))
