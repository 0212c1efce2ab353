"""Tests for reading a directive's metadata from text: the two real samples and variants of real texts."""

from __future__ import annotations

import json
import unicodedata
from dataclasses import fields
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.sandbox.demo import SAMPLES_DIR as SAMPLES
from bot.services.directive_parser import (
    TRACKED_FIELDS,
    CitedDocument,
    Deadline,
    DeadlineKind,
    DirectiveMeta,
    Recurrence,
    parse_directive,
)


def _sample(name: str) -> str:
    return (SAMPLES / name).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def text_747() -> str:
    return _sample("directive-747-CV-DUK.txt")


@pytest.fixture(scope="module")
def text_745() -> str:
    return _sample("directive-745-CV-DUK.txt")


# --- A synthetic directive whose parts each test varies -----------------------------------------------------

HEADER = """ĐẢNG BỘ TỈNH LAI CHÂU
ĐẢNG ỦY KHỐI CÁC CƠ QUAN
VÀ DOANH NGHIỆP TỈNH

ĐẢNG CỘNG SẢN VIỆT NAM

{date_line}

*

{number_line}

{subject}

Kính gửi: {recipients}
"""

BODY = """Thực hiện Kế hoạch số 25-KH/TU ngày 10/3/2024 của Ban Thường vụ Tỉnh ủy, Ban Thường vụ \
Đảng ủy Khối yêu cầu các chi, đảng bộ cơ sở tổ chức quán triệt đến cán bộ, đảng viên.

{extra}

Báo cáo kết quả về Ban Thường vụ Đảng ủy Khối (qua Ban Tuyên giáo Đảng ủy) {deadline}./.
"""

SIGNATURE = """
Nơi nhận:

- Như trên,
- Lưu VPĐUK.

T/M BAN THƯỜNG VỤ
BÍ THƯ

Nguyễn Văn An
"""


def directive(
    *,
    number_line: str = "Số 812-CV/ĐUK",
    date_line: str = "Lai Châu, ngày 15 tháng 10 năm 2024",
    subject: str = "Tổ chức học tập chuyên đề năm 2024",
    recipients: str = "Các chi, đảng bộ cơ sở",
    extra: str = "",
    deadline: str = "trước ngày 15/11/2024",
    signature: str = SIGNATURE,
    attachment: str = "",
) -> str:
    header = HEADER.format(
        date_line=date_line, number_line=number_line, subject=subject, recipients=recipients
    )
    body = BODY.format(extra=extra, deadline=deadline)
    return f"{header}\n{body}{signature}{attachment}"


# --- The two real samples -----------------------------------------------------------------------------------


def test_sample_747_reads_as_its_readme_says(text_747: str) -> None:
    meta = parse_directive(text_747)

    assert (meta.number, meta.number_seq, meta.doc_type, meta.issuer_code) == (
        "747-CV/ĐUK",
        "747",
        "CV",
        "ĐUK",
    )
    assert meta.parent_body == "ĐẢNG BỘ TỈNH LAI CHÂU"
    assert meta.issuer == "ĐẢNG ỦY KHỐI CÁC CƠ QUAN VÀ DOANH NGHIỆP TỈNH"
    assert (meta.place, meta.issued_on) == ("Lai Châu", date(2024, 4, 3))
    assert meta.issued_text == "ngày 03 tháng 4 năm 2024"
    assert meta.subject == (
        "Triển khai đợt sinh hoạt chính trị, tư tưởng về nội dung tác phẩm của Tổng Bí thư Nguyễn Phú Trọng"
    )
    assert meta.subject_hint is None
    assert meta.recipients == "Các chi, đảng bộ cơ sở"
    assert meta.cited == [
        CitedDocument("1787-CV/TU", "CV", "TU", date(2024, 3, 1), "Công văn"),
        CitedDocument("1817-CV/TU", "CV", "TU", date(2024, 3, 25), "Công văn"),
        CitedDocument("20-CT/TW", "CT", "TW", date(2018, 1, 18), "Chỉ thị"),
    ]
    assert meta.materials == [
        "Bài viết của Tổng Bí thư Nguyễn Phú Trọng “Tự hào và tin tưởng dưới lá cờ vẻ vang của Đảng, "
        "quyết tâm xây dựng một nước Việt Nam ngày càng giàu mạnh, văn minh, văn hiến và anh hùng”",
        "Tác phẩm “Xây dựng và phát triển nền đối ngoại, ngoại giao Việt Nam toàn diện, hiện đại, mang đậm "
        "bản sắc “cây tre Việt Nam”” đồng chí Tổng Bí thư Nguyễn Phú Trọng",
        "Toàn văn nội dung phát biểu của Tổng Bí thư Nguyễn Phú Trọng tại Hội nghị ngoại giao lần thứ 32",
        "Tài liệu thông tin nội bộ “Thành tựu đối ngoại Việt Nam trong nửa nhiệm kỳ thực hiện Nghị quyết "
        "Đại hội lần thứ XIII của Đảng”",
    ]
    assert (meta.period_start, meta.period_end) == (None, None)
    assert meta.deadline == date(2024, 10, 30)
    assert meta.deadline_text == "trước ngày 30/10 hằng năm"
    assert meta.deadline_recurring is Recurrence.YEARLY
    assert meta.deadline_at_period_end is False and meta.deadline_suggestion is None
    assert meta.report_to == "Ban Thường vụ Đảng ủy Khối (qua Ban Tuyên giáo Đảng ủy)"
    assert (meta.signer_authority, meta.signer_title, meta.signer_name) == (
        "T/M BAN THƯỜNG VỤ",
        "PHÓ BÍ THƯ",
        "Lý Công Hà",
    )
    assert meta.attached_guide is None
    assert meta.body is not None
    assert meta.body.startswith("Thực hiện Công văn số 1787-CV/TU ngày 01/3/2024")
    assert meta.body.endswith("theo quy định./.")
    assert "3. Hình thức" in meta.body and "*" not in meta.body and "#" not in meta.body
    assert "Nơi nhận" not in meta.body and "Lý Công Hà" not in meta.body
    assert meta.missing == ["period_start", "period_end"]


def test_sample_745_reads_as_its_readme_says(text_745: str) -> None:
    meta = parse_directive(text_745)

    assert (meta.number, meta.number_seq, meta.doc_type, meta.issuer_code) == (
        "745-CV/ĐUK",
        "745",
        "CV",
        "ĐUK",
    )
    assert meta.parent_body == "ĐẢNG BỘ TỈNH LAI CHÂU"
    assert meta.issuer == "ĐẢNG ỦY KHỐI CÁC CƠ QUAN VÀ DOANH NGHIỆP TỈNH"
    assert (meta.place, meta.issued_on) == ("Lai Châu", date(2024, 4, 3))
    assert meta.subject is None
    assert meta.subject_hint is not None
    assert "tuyên truyền sự kiện Kỷ niệm 70 năm Chiến thắng Điện Biên Phủ" in meta.subject_hint
    assert meta.recipients == "Các chi, đảng bộ cơ sở"
    assert meta.cited == [CitedDocument("981-CV/BTGTU", "CV", "BTGTU", date(2024, 3, 29), "Công văn")]
    assert meta.materials == []
    assert (meta.period_start, meta.period_end) == (date(2024, 5, 1), date(2024, 5, 7))
    assert meta.deadline is None
    assert meta.deadline_at_period_end is True
    assert meta.deadline_suggestion == date(2024, 5, 7)
    assert meta.deadline_text == "Kết thúc đợt tuyên truyền và các hoạt động"
    assert meta.deadline_recurring is None
    assert meta.report_to == "Ban Thường vụ Đảng ủy Khối (qua Ban Tuyên giáo Đảng ủy Khối)"
    assert (meta.signer_authority, meta.signer_title, meta.signer_name) == (
        "T/M BAN THƯỜNG VỤ",
        "PHÓ BÍ THƯ",
        "Lý Công Hà",
    )
    assert meta.attached_guide is None
    assert meta.body is not None and meta.body.startswith("Thực hiện Công văn số 981-CV/BTGTU")
    assert meta.missing == ["subject", "deadline"]


# --- The number -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line, number, seq, doc_type, issuer",
    [
        ("Số 747-CV/ĐUK", "747-CV/ĐUK", "747", "CV", "ĐUK"),
        ("Số: 747-CV/ĐUK", "747-CV/ĐUK", "747", "CV", "ĐUK"),
        ("Số 31 – HD/BTCTW", "31-HD/BTCTW", "31", "HD", "BTCTW"),
        ("Số 100 - KL/TW", "100-KL/TW", "100", "KL", "TW"),
        ("Số:  05 —  QĐi / TU", "05-QĐi/TU", "05", "QĐi", "TU"),
        ("**Số 747-CV/ĐUK**", "747-CV/ĐUK", "747", "CV", "ĐUK"),
        ("Số: 15/KH-UBND", "15/KH-UBND", "15", "KH", "UBND"),
    ],
    ids=["plain", "colon", "en-dash", "spaced-hyphen", "em-dash-mixed-case", "bold", "state-format"],
)
def test_number_variants_are_normalised(line: str, number: str, seq: str, doc_type: str, issuer: str) -> None:
    meta = parse_directive(directive(number_line=line))

    assert (meta.number, meta.number_seq, meta.doc_type, meta.issuer_code) == (number, seq, doc_type, issuer)
    assert meta.subject == "Tổ chức học tập chuyên đề năm 2024"


@pytest.mark.parametrize("line", ["Số - CV/HU", "Số     -CV/HU", "Số: ......-CV/HU", "Số ___ - CV/HU"])
def test_blank_number_keeps_type_and_issuer_but_no_number(line: str) -> None:
    meta = parse_directive(directive(number_line=line))

    assert (meta.number, meta.number_seq) == (None, None)
    assert (meta.doc_type, meta.issuer_code) == ("CV", "HU")
    assert {"number", "number_seq"} <= set(meta.missing)
    assert "doc_type" not in meta.missing


def test_number_absent_is_missing_not_guessed() -> None:
    meta = parse_directive(directive(number_line=""))

    assert (meta.number, meta.doc_type, meta.issuer_code) == (None, None, None)
    assert {"number", "number_seq", "doc_type", "issuer_code"} <= set(meta.missing)
    # The body's citation is never promoted to the directive's own number.
    assert [doc.number for doc in meta.cited] == ["25-KH/TU"]


# --- Dates ------------------------------------------------------------------------------------------------


def test_blank_day_keeps_the_text_but_no_date() -> None:
    meta = parse_directive(directive(date_line="Hà Nội, ngày   tháng 5 năm 2022"))

    assert meta.issued_on is None
    assert meta.issued_text == "ngày   tháng 5 năm 2022"
    assert meta.place == "Hà Nội"
    assert "issued_on" in meta.missing and "place" not in meta.missing


def test_impossible_dates_are_not_dates() -> None:
    text = directive(
        date_line="Lai Châu, ngày 31 tháng 2 năm 2024",
        extra="Thực hiện Công văn số 12-CV/TU ngày 18/25/2021; tuyên truyền từ 32/5/2024 đến 7/5/2024.",
        deadline="trước ngày 18/25/2021",
    )

    meta = parse_directive(text, today=date(2024, 10, 1))

    assert meta.issued_on is None and meta.issued_text == "ngày 31 tháng 2 năm 2024"
    assert CitedDocument("12-CV/TU", "CV", "TU", None, "Công văn") in meta.cited
    assert (meta.period_start, meta.period_end) == (None, None)
    assert meta.deadline is None and meta.deadline_text == "trước ngày 18/25/2021"


def test_worded_and_numeric_dates_both_read() -> None:
    meta = parse_directive(
        directive(extra="Căn cứ Chỉ thị số 05-CT/TW ngày 15 tháng 5 năm 2016 của Bộ Chính trị.")
    )

    assert CitedDocument("05-CT/TW", "CT", "TW", date(2016, 5, 15), "Chỉ thị") in meta.cited


# --- Markdown, Unicode and line endings -------------------------------------------------------------------


def test_markdown_markers_and_escapes_are_removed() -> None:
    text = directive(
        number_line="**Số 812-CV/ĐUK**",
        subject="*Tổ chức học tập* chuyên đề **năm 2024**",
        extra="### **3. Thời gian**\n\n*(Có tài liệu gửi kèm)*",
        deadline="**trước ngày 15/11/2024.**",
    ).replace("\n*\n", "\n\\*\n")

    meta = parse_directive(text)

    assert meta.number == "812-CV/ĐUK"
    assert meta.subject == "Tổ chức học tập chuyên đề năm 2024"
    assert meta.deadline == date(2024, 11, 15)
    assert meta.issuer == "ĐẢNG ỦY KHỐI CÁC CƠ QUAN VÀ DOANH NGHIỆP TỈNH"
    assert meta.body is not None
    assert "3. Thời gian" in meta.body and "(Có tài liệu gửi kèm)" in meta.body
    assert "*" not in meta.body and "#" not in meta.body


def test_nfd_text_reads_like_nfc(text_747: str) -> None:
    nfd = unicodedata.normalize("NFD", text_747)
    assert nfd != text_747

    assert parse_directive(nfd).to_json() == parse_directive(text_747).to_json()


def test_windows_line_endings_read_like_unix(text_745: str) -> None:
    crlf = text_745.replace("\n", "\r\n")

    assert parse_directive(crlf).to_json() == parse_directive(text_745).to_json()


def test_labels_match_without_diacritics_and_with_old_tone_placement() -> None:
    text = directive(recipients="Các chi bộ trực thuộc").replace("Kính gửi:", "Kinh gui:")
    text = text.replace(
        "Báo cáo kết quả về Ban Thường vụ Đảng ủy Khối", "Báo cáo kết quả về Ban Thường vụ Đảng uỷ Khối"
    )

    meta = parse_directive(text)

    assert meta.recipients == "Các chi bộ trực thuộc"
    assert meta.report_to == "Ban Thường vụ Đảng uỷ Khối (qua Ban Tuyên giáo Đảng ủy)"


# --- Cited documents --------------------------------------------------------------------------------------


def test_own_number_is_not_cited_and_each_citation_appears_once() -> None:
    extra = (
        "Công văn này thay thế nội dung Công văn số 812-CV/ĐUK đã gửi. Tiếp tục thực hiện Kế hoạch số "
        "25-KH/TU và Nghị quyết số 03 - NQ/ĐUK, ngày 02/01/2024 của Ban Chấp hành Đảng bộ Khối."
    )

    meta = parse_directive(directive(extra=extra))

    assert meta.cited == [
        CitedDocument("25-KH/TU", "KH", "TU", date(2024, 3, 10), "Kế hoạch"),
        CitedDocument("03-NQ/ĐUK", "NQ", "ĐUK", date(2024, 1, 2), "Nghị quyết"),
    ]


def test_a_later_mention_completes_an_undated_citation() -> None:
    text = directive(extra="Theo Kết luận 100-KL/TW và các văn bản liên quan.").replace(
        "Kế hoạch số 25-KH/TU ngày 10/3/2024", "Kết luận số 100-KL/TW"
    )
    text = text.replace("các văn bản liên quan", "Kết luận số 100 - KL/TW ngày 20/7/2024")

    meta = parse_directive(text)

    assert meta.cited == [CitedDocument("100-KL/TW", "KL", "TW", date(2024, 7, 20), "Kết luận")]


# --- Attached guide ---------------------------------------------------------------------------------------


ATTACHED_GUIDE = """
HƯỚNG DẪN
sinh hoạt chi bộ chuyên đề
(Kèm theo Công văn số 812-CV/ĐUK ngày 15/10/2024 của Ban Thường vụ Đảng ủy Khối)

1. Thực hiện Chỉ thị số 05-CT/TW ngày 15/5/2016, tổ chức từ 01/6/2025 đến 30/6/2025.
2. Các chi bộ báo cáo về Ban Tuyên giáo trước ngày 15/12/2025.

T/M BAN TUYÊN GIÁO
TRƯỞNG BAN

Trần Thị Bình
"""


def test_attached_guide_is_separate_and_lends_nothing_to_the_directive() -> None:
    meta = parse_directive(directive(deadline="", attachment=ATTACHED_GUIDE))

    assert meta.attached_guide is not None
    assert meta.attached_guide.startswith("HƯỚNG DẪN\nsinh hoạt chi bộ chuyên đề")
    assert meta.attached_guide.endswith("Trần Thị Bình")
    assert meta.number == "812-CV/ĐUK" and meta.issued_on == date(2024, 10, 15)
    assert [doc.number for doc in meta.cited] == ["25-KH/TU"]
    assert (meta.period_start, meta.period_end, meta.deadline) == (None, None, None)
    assert (meta.signer_title, meta.signer_name) == ("BÍ THƯ", "Nguyễn Văn An")
    assert meta.body is not None and "HƯỚNG DẪN" not in meta.body


def test_attached_guide_after_a_signature_without_its_list_of_recipients() -> None:
    signature = "\nT/M BAN THƯỜNG VỤ\nPHÓ BÍ THƯ\n\n(Đã ký)\n\nLý Công Hà\n"

    meta = parse_directive(directive(signature=signature, attachment=ATTACHED_GUIDE))

    assert (meta.signer_authority, meta.signer_title, meta.signer_name) == (
        "T/M BAN THƯỜNG VỤ",
        "PHÓ BÍ THƯ",
        "Lý Công Hà",
    )
    assert meta.attached_guide is not None and meta.attached_guide.startswith("HƯỚNG DẪN")


def test_anything_after_the_signer_is_the_attached_part() -> None:
    attachment = (
        "\nNỘI DUNG ĐỊNH HƯỚNG SINH HOẠT CHÍNH TRỊ, TƯ TƯỞNG\n\n1. Tự hào về truyền thống của Đảng.\n"
    )

    meta = parse_directive(directive(attachment=attachment))

    assert meta.attached_guide == (
        "NỘI DUNG ĐỊNH HƯỚNG SINH HOẠT CHÍNH TRỊ, TƯ TƯỞNG\n\n1. Tự hào về truyền thống của Đảng."
    )


# --- Deadlines and the campaign period --------------------------------------------------------------------


@pytest.mark.parametrize(
    "phrase, expected",
    [
        ("trước ngày 15/11/2024", date(2024, 11, 15)),
        ("chậm nhất ngày 20/11/2024", date(2024, 11, 20)),
        ("trước 17h00 ngày 22/11/2024", date(2024, 11, 22)),
        ("trước ngày 25 tháng 11 năm 2024", date(2024, 11, 25)),
    ],
)
def test_explicit_dated_deadline(phrase: str, expected: date) -> None:
    meta = parse_directive(directive(deadline=phrase))

    assert meta.deadline == expected
    assert meta.deadline_text == phrase
    assert meta.deadline_recurring is None and meta.deadline_at_period_end is False
    assert "deadline" not in meta.missing


@pytest.mark.parametrize(
    "issued, expected",
    [
        ("ngày 03 tháng 4 năm 2024", date(2024, 10, 30)),
        ("ngày 30 tháng 10 năm 2024", date(2024, 10, 30)),
        ("ngày 15 tháng 11 năm 2024", date(2025, 10, 30)),
    ],
)
def test_yearly_deadline_is_the_next_on_or_after_the_issue_date(issued: str, expected: date) -> None:
    meta = parse_directive(directive(date_line=f"Lai Châu, {issued}", deadline="trước ngày 30/10 hàng năm"))

    assert meta.deadline == expected
    assert meta.deadline_recurring is Recurrence.YEARLY
    assert meta.deadline_text == "trước ngày 30/10 hàng năm"


def test_year_less_deadline_without_issue_date_uses_today() -> None:
    text = directive(date_line="Lai Châu, ngày   tháng 10 năm 2024", deadline="trước ngày 30/10 hằng năm")

    assert parse_directive(text, today=date(2024, 12, 1)).deadline == date(2025, 10, 30)
    assert parse_directive(text, today=date(2024, 6, 1)).deadline == date(2024, 10, 30)


def test_monthly_deadline() -> None:
    meta = parse_directive(directive(deadline="trước ngày 25 hằng tháng"))

    assert meta.deadline == date(2024, 10, 25)
    assert meta.deadline_recurring is Recurrence.MONTHLY


def test_deadline_tied_to_the_end_of_the_campaign() -> None:
    extra = (
        "Tuyên truyền cao điểm từ ngày 01/5/2024 đến ngày 7/5/2024.\n\n"
        "Kết thúc đợt tuyên truyền, các chi bộ báo cáo kết quả về Ban Tuyên giáo Đảng ủy Khối để tổng hợp."
    )
    text = directive(extra=extra, deadline="").replace(
        "Báo cáo kết quả về Ban Thường vụ Đảng ủy Khối (qua Ban Tuyên giáo Đảng ủy) ./.",
        "Đề nghị thực hiện tốt./.",
    )

    meta = parse_directive(text)

    assert (meta.period_start, meta.period_end) == (date(2024, 5, 1), date(2024, 5, 7))
    assert meta.deadline is None
    assert meta.deadline_at_period_end is True
    assert meta.deadline_suggestion == date(2024, 5, 7)
    assert meta.deadline_text == "Kết thúc đợt tuyên truyền"
    assert meta.report_to == "Ban Tuyên giáo Đảng ủy Khối"
    assert "deadline" in meta.missing


def test_a_dated_deadline_wins_over_the_end_of_the_campaign() -> None:
    extra = "Kết thúc đợt tuyên truyền, các chi bộ báo cáo kết quả về Ban Tuyên giáo Đảng ủy Khối."

    meta = parse_directive(directive(extra=extra, deadline="trước ngày 15/11/2024"))

    assert meta.deadline == date(2024, 11, 15) and meta.deadline_at_period_end is False


def test_deadline_outside_a_report_sentence_is_not_the_report_deadline() -> None:
    extra = "Hoàn thành việc treo băng zôn, khẩu hiệu trước ngày 30/4/2024."

    meta = parse_directive(directive(extra=extra, deadline=""))

    assert meta.deadline is None and meta.deadline_text is None
    assert meta.deadlines == [Deadline(date(2024, 4, 30), DeadlineKind.COMPLETION, "trước ngày 30/4/2024")]


def test_each_deadline_is_marked_with_what_is_due() -> None:
    extra = (
        "Các chi bộ hoàn thành việc học tập trước ngày 15-6-2020 và báo cáo kết quả về Ban Tuyên giáo "
        "trước ngày 20/6/2020. Thời hạn hoàn thành trước ngày 01/11/2024. Trước ngày 10/11/2024, các chi bộ "
        "họp. Định kỳ 6 tháng (trước ngày 15/6) và hằng năm (trước ngày 15/12), các chi bộ gửi kết quả "
        "về Ban Tuyên giáo."
    )

    meta = parse_directive(directive(extra=extra, deadline=""))

    found = [(d.date, d.kind, d.recurring) for d in meta.deadlines]
    assert found == [
        (date(2020, 6, 15), DeadlineKind.COMPLETION, None),
        (date(2020, 6, 20), DeadlineKind.REPORT, None),
        (date(2024, 11, 1), DeadlineKind.COMPLETION, None),
        # "Trước ngày 10/11/2024, các chi bộ họp": nothing is due by it, so it is not a deadline.
        (date(2025, 6, 15), DeadlineKind.REPORT, Recurrence.YEARLY),
        (date(2024, 12, 15), DeadlineKind.REPORT, Recurrence.YEARLY),
    ]
    assert meta.deadline == date(2020, 6, 20)


def test_reports_sent_for_someone_go_to_the_named_body_only_after_a_sending_verb() -> None:
    sent = (
        "Các chi bộ tổng hợp ý kiến, gửi bản tổng hợp cho Ban Tuyên giáo Đảng ủy Khối trước ngày 05/11/2024."
    )
    helped = "Tạo điều kiện cho Ban Tuyên giáo kiểm tra; báo cáo kết quả trước ngày 05/11/2024."

    assert parse_directive(directive(extra=sent, deadline="")).report_to == "Ban Tuyên giáo Đảng ủy Khối"
    # "cho" without a sending verb before it names no destination: the template's own sentence does.
    assert parse_directive(directive(extra=helped, deadline="")).report_to == (
        "Ban Thường vụ Đảng ủy Khối (qua Ban Tuyên giáo Đảng ủy)"
    )


def test_json_of_an_earlier_version_still_loads() -> None:
    stored = parse_directive(directive()).to_json()
    stored["version"] = 1
    del stored["deadlines"]

    meta = DirectiveMeta.from_json(stored)

    assert meta.deadline == date(2024, 11, 15) and meta.deadlines == []
    assert (
        DirectiveMeta.from_json(parse_directive(directive()).to_json()).deadlines[0].kind
        is DeadlineKind.REPORT
    )


@pytest.mark.parametrize(
    "cited, expected",
    [
        ("Thông báo kết luận số 12-TB/HU ngày 02/3/2024", [("12-TB/HU", "Thông báo")]),
        ("Kế hoạch số 87-CV/HU", [("87-CV/HU", None)]),  # the kind disagrees with the type code
        ("Quyết định số 84 QĐ/TW ngày 22/02/2013", [("84-QĐ/TW", "Quyết định")]),
        ("năm 2013 QĐ/TW", []),  # no dash and no "số": not a number
    ],
)
def test_cited_kind_and_dashless_numbers(cited: str, expected: list[tuple[str, str | None]]) -> None:
    template = {doc.number for doc in parse_directive(directive(deadline="")).cited}
    meta = parse_directive(directive(extra=f"Thực hiện {cited} của Ban Thường vụ.", deadline=""))

    assert [(doc.number, doc.kind) for doc in meta.cited if doc.number not in template] == expected


def test_a_number_without_sequence_or_type_keeps_only_its_issuer() -> None:
    meta = parse_directive(directive(number_line="Số      -/ĐUK"))

    assert (meta.number, meta.number_seq, meta.doc_type, meta.issuer_code) == (None, None, None, "ĐUK")


@pytest.mark.parametrize(
    "phrase, start, end",
    [
        ("từ 01/5/2024 đến 7/5/2024", date(2024, 5, 1), date(2024, 5, 7)),
        ("từ ngày 01/5 đến ngày 07/5/2024", date(2024, 5, 1), date(2024, 5, 7)),
        ("từ 20/12 đến 10/01/2025", date(2024, 12, 20), date(2025, 1, 10)),
        ("từ ngày 01 tháng 5 năm 2024 đến ngày 07 tháng 5 năm 2024", date(2024, 5, 1), date(2024, 5, 7)),
        (
            "bắt đầu từ 01/5/2024 đến kết thúc hoạt động kỷ niệm (7/5/2024)",
            date(2024, 5, 1),
            date(2024, 5, 7),
        ),
    ],
)
def test_campaign_period(phrase: str, start: date, end: date) -> None:
    meta = parse_directive(directive(extra=f"Tổ chức tuyên truyền {phrase}."))

    assert (meta.period_start, meta.period_end) == (start, end)


def test_reversed_period_is_not_a_period() -> None:
    meta = parse_directive(directive(extra="Tổ chức tuyên truyền từ 10/5/2024 đến 7/5/2024."))

    assert (meta.period_start, meta.period_end) == (None, None)


# --- Header layouts, recipients, subject, materials, signer -------------------------------------------------


def test_two_columns_on_one_line_as_pdf_extraction_gives_them() -> None:
    text = (
        "ĐẢNG BỘ TỈNH LAI CHÂU          ĐẢNG CỘNG SẢN VIỆT NAM\n"
        "ĐẢNG ỦY KHỐI CÁC CƠ QUAN\n"
        "VÀ DOANH NGHIỆP TỈNH\n"
        "*\n"
        "Số 747-CV/ĐUK                Lai Châu, ngày 03 tháng 4 năm 2024\n"
        "Triển khai đợt sinh hoạt chính trị\n"
        "Kính gửi: Các chi, đảng bộ cơ sở\n"
        "Ban Thường vụ Đảng ủy Khối yêu cầu các chi bộ thực hiện./.\n"
        "Nơi nhận:                                    T/M BAN THƯỜNG VỤ\n"
        "- Như trên,                                  PHÓ BÍ THƯ\n"
        "- Lưu VPĐUK.\n"
        "                                             Lý Công Hà\n"
    )

    meta = parse_directive(text)

    assert (meta.parent_body, meta.issuer) == (
        "ĐẢNG BỘ TỈNH LAI CHÂU",
        "ĐẢNG ỦY KHỐI CÁC CƠ QUAN VÀ DOANH NGHIỆP TỈNH",
    )
    assert (meta.number, meta.place, meta.issued_on) == ("747-CV/ĐUK", "Lai Châu", date(2024, 4, 3))
    assert meta.subject == "Triển khai đợt sinh hoạt chính trị"
    assert meta.body == "Ban Thường vụ Đảng ủy Khối yêu cầu các chi bộ thực hiện./."
    assert (meta.signer_authority, meta.signer_title, meta.signer_name) == (
        "T/M BAN THƯỜNG VỤ",
        "PHÓ BÍ THƯ",
        "Lý Công Hà",
    )


def test_single_line_issuer_has_no_parent_body() -> None:
    text = directive().replace(
        "ĐẢNG BỘ TỈNH LAI CHÂU\nĐẢNG ỦY KHỐI CÁC CƠ QUAN\nVÀ DOANH NGHIỆP TỈNH", "TỈNH ỦY LAI CHÂU"
    )

    meta = parse_directive(text)

    assert (meta.parent_body, meta.issuer) == (None, "TỈNH ỦY LAI CHÂU")
    assert "parent_body" in meta.missing


def test_wrapped_parent_body_is_joined_before_the_issuer() -> None:
    text = directive().replace(
        "ĐẢNG BỘ TỈNH LAI CHÂU\nĐẢNG ỦY KHỐI CÁC CƠ QUAN\nVÀ DOANH NGHIỆP TỈNH",
        "ĐẢNG BỘ KHỐI CÁC CƠ QUAN\nVÀ DOANH NGHIỆP TỈNH\nBAN TUYÊN GIÁO",
    )

    meta = parse_directive(text)

    assert (meta.parent_body, meta.issuer) == (
        "ĐẢNG BỘ KHỐI CÁC CƠ QUAN VÀ DOANH NGHIỆP TỈNH",
        "BAN TUYÊN GIÁO",
    )


def test_subject_label_v_v_is_dropped_and_wrapped_lines_joined() -> None:
    meta = parse_directive(directive(subject="V/v tổ chức học tập chuyên đề\nnăm 2024"))

    assert meta.subject == "Tổ chức học tập chuyên đề năm 2024"


def test_subject_missing_gives_only_a_hint() -> None:
    text = directive(subject="", extra="").replace(
        "Ban Thường vụ Tỉnh ủy, Ban", "Ban Thường vụ Tỉnh ủy về tổ chức Tết Trồng cây năm 2024. Ban"
    )

    meta = parse_directive(text)

    assert meta.subject is None
    assert meta.subject_hint == "tổ chức Tết Trồng cây năm 2024"
    assert "subject" in meta.missing


def test_recipients_as_a_dash_list() -> None:
    text = directive(recipients="\n- Các chi bộ trực thuộc;\n- Các đoàn thể Khối.")

    meta = parse_directive(text)

    assert meta.recipients == "Các chi bộ trực thuộc; Các đoàn thể Khối"
    assert meta.body is not None and meta.body.startswith("Thực hiện Kế hoạch số 25-KH/TU")


def test_recipient_on_the_line_after_a_bare_label() -> None:
    meta = parse_directive(directive(recipients="\nBan Thường vụ Tỉnh ủy"))

    assert meta.recipients == "Ban Thường vụ Tỉnh ủy"
    assert meta.body is not None and meta.body.startswith("Thực hiện Kế hoạch số 25-KH/TU")


def test_a_dash_inside_a_recipient_is_kept() -> None:
    meta = parse_directive(directive(recipients="Ban Tuyên giáo - Dân vận Tỉnh ủy"))

    assert meta.recipients == "Ban Tuyên giáo - Dân vận Tỉnh ủy"


def test_plan_without_kinh_gui_takes_its_subject_under_the_type_heading() -> None:
    text = (
        "ĐẢNG BỘ TỈNH LAI CHÂU\nBAN TUYÊN GIÁO\n*\nSố 31-KH/BTGTU\n\nLai Châu, ngày 10 tháng 5 năm 2024\n\n"
        "KẾ HOẠCH\ntuyên truyền kỷ niệm 134 năm\nNgày sinh Chủ tịch Hồ Chí Minh\n-----\n\n"
        "Thực hiện Kết luận số 01-KL/TW ngày 18/5/2021 của Bộ Chính trị, Ban Tuyên giáo xây dựng "
        "kế hoạch.\n\n"
        "Các chi bộ báo cáo kết quả trước ngày 25/5/2024./.\n\n"
        "Nơi nhận:\n- Như trên,\n- Lưu VP.\n\nK/T TRƯỞNG BAN\nPHÓ TRƯỞNG BAN\n\nĐỗ Minh Châu\n"
    )

    meta = parse_directive(text)

    assert (meta.number, meta.doc_type) == ("31-KH/BTGTU", "KH")
    assert (meta.parent_body, meta.issuer) == ("ĐẢNG BỘ TỈNH LAI CHÂU", "BAN TUYÊN GIÁO")
    assert meta.subject == "tuyên truyền kỷ niệm 134 năm Ngày sinh Chủ tịch Hồ Chí Minh"
    assert meta.recipients is None and "recipients" in meta.missing
    assert meta.body is not None and meta.body.startswith("Thực hiện Kết luận số 01-KL/TW")
    assert meta.deadline == date(2024, 5, 25)
    assert (meta.signer_authority, meta.signer_title, meta.signer_name) == (
        "K/T TRƯỞNG BAN",
        "PHÓ TRƯỞNG BAN",
        "Đỗ Minh Châu",
    )


def test_materials_as_a_dash_list_under_tai_lieu_gui_kem() -> None:
    extra = (
        "Tài liệu gửi kèm:\n- Đề cương tuyên truyền;\n- Bộ câu hỏi thảo luận.\n\nCác chi bộ nghiên cứu kỹ."
    )

    meta = parse_directive(directive(extra=extra))

    assert meta.materials == ["Đề cương tuyên truyền", "Bộ câu hỏi thảo luận"]


def test_a_note_mentioning_attached_materials_is_not_a_list() -> None:
    meta = parse_directive(directive(extra="(Có nội dung định hướng và tài liệu gửi kèm)"))

    assert meta.materials == []


def test_signer_without_an_on_behalf_line() -> None:
    meta = parse_directive(directive(signature="\nNơi nhận:\n- Như trên.\n\nBÍ THƯ\n\nHoàng Văn Sơn\n"))

    assert (meta.signer_authority, meta.signer_title, meta.signer_name) == (None, "BÍ THƯ", "Hoàng Văn Sơn")
    assert "signer_authority" in meta.missing


def test_text_without_any_directive_structure_reports_everything_missing() -> None:
    meta = parse_directive("Xin chào, đây không phải công văn.")

    assert meta.body == "Xin chào, đây không phải công văn."
    assert meta.missing == [name for name in TRACKED_FIELDS if name != "body"]


def test_empty_text() -> None:
    meta = parse_directive("")

    assert meta.missing == list(TRACKED_FIELDS)
    assert meta.cited == [] and meta.materials == []


# --- JSON -------------------------------------------------------------------------------------------------


def test_to_json_is_serialisable_and_complete(text_747: str) -> None:
    data = parse_directive(text_747).to_json()

    round_trip = json.loads(json.dumps(data, ensure_ascii=False))
    assert round_trip == data
    assert set(data) == {"version"} | {spec.name for spec in fields(DirectiveMeta)}
    assert data["issued_on"] == "2024-04-03" and data["deadline"] == "2024-10-30"
    assert data["deadline_recurring"] == "yearly"
    assert data["cited"][0] == {
        "number": "1787-CV/TU",
        "doc_type": "CV",
        "issuer_code": "TU",
        "date": "2024-03-01",
        "kind": "Công văn",
    }


# --- Robustness -------------------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_arbitrary_text_never_raises(text: str) -> None:
    meta = parse_directive(text, today=date(2024, 1, 1))

    assert set(meta.missing) <= set(TRACKED_FIELDS)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=10_000), max_size=60), st.data())
def test_shuffled_directive_lines_never_raise(picks: list[int], data: st.DataObject) -> None:
    lines = (directive(attachment=ATTACHED_GUIDE) + _sample("directive-745-CV-DUK.txt")).split("\n")
    chosen = [lines[i % len(lines)] for i in picks]
    if chosen:
        cut = data.draw(st.integers(min_value=0, max_value=len(chosen) - 1))
        chosen[cut] = chosen[cut][: data.draw(st.integers(min_value=0, max_value=len(chosen[cut])))]

    meta = parse_directive("\n".join(chosen), today=date(2024, 1, 1))

    assert all(getattr(meta, name) is None for name in meta.missing)
