"""Tests for the attendance answer: the typed formats read, the sums checked with a Vietnamese reason, the rate
leaving exempted members out, and the one-message report carrying it."""

from __future__ import annotations

import unicodedata
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.services.attendance import Attendance, as_attendance
from bot.services.field_parsers import Ok, Refusal, parse_field
from bot.services.forms import HOC_TAP_NGHI_QUYET, FieldType
from bot.services.quick_reply import parse_quick_reply
from bot.services.report_data import Aggregates, FormField, UnitRow, UnitStatus

TODAY = date(2024, 4, 20)
SPEC = HOC_TAP_NGHI_QUYET.field("dang_vien")
EXPECTED = {"official": 25, "probationary": 3, "exempt": 2, "excused": 1, "unexcused": 0, "present": 25}


def read(text: str) -> Ok | Refusal:
    assert SPEC is not None and SPEC.type is FieldType.ATTENDANCE
    result = parse_field(SPEC, text, TODAY)
    assert isinstance(result, Ok | Refusal)
    return result


@pytest.mark.parametrize(
    "text",
    [
        "25 chính thức, 3 dự bị, 2 miễn, vắng 1 có lý do",
        "25 chinh thuc, 3 du bi, 2 mien, vang 1 co ly do",
        "Chính thức: 25; dự bị: 3; miễn sinh hoạt: 2; vắng có lý do: 1; vắng không lý do: 0",
        "25 chính thức 3 dự bị 2 miễn SH vắng 1 có lý do",
        "25 ĐV chính thức, 3 đảng viên dự bị, 2 đ/c miễn sinh hoạt và 1 đồng chí vắng có lý do",
        "tổng số 28, dự bị 3, miễn 2, vắng có phép 1",
        "25 chính thức, 3 dự bị, 2 miễn, có mặt 25, vắng 1 có lý do",
        "Chính thức 25\nDự bị 3\nMiễn 2\nVắng CLD 1",
        unicodedata.normalize("NFD", "25 chính thức, 3 dự bị, 2 miễn, vắng 1 có lý do"),
    ],
)
def test_accepted_formats(text: str) -> None:
    assert read(text) == Ok(EXPECTED)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("25 chính thức, vắng 2", "có lý do hay không lý do"),
        ("25 chính thức, 3 dự bị, có mặt 20", "Không khớp"),
        ("tổng 30, 25 chính thức, 3 dự bị", "Không khớp: tổng số 30 đảng viên"),
        ("3 dự bị, 2 miễn", "Cần số đảng viên chính thức"),
        ("5 chính thức, 6 miễn", "miễn sinh hoạt (6) lớn hơn số đảng viên (5)"),
        ("10 chính thức, 2 miễn, vắng 5 có lý do, vắng 4 không lý do", "chỉ có 8 đồng chí phải dự"),
        ("25 chính thức, 26 chính thức", "hai lần"),
        ("đông đủ", "Chưa hiểu"),
        ("0 chính thức", "Cần số đảng viên chính thức"),
    ],
)
def test_refusals_say_what_does_not_add_up(text: str, says: str) -> None:
    result = read(text)
    assert isinstance(result, Refusal) and says in result.message, result


@given(
    official=st.integers(0, 500),
    probationary=st.integers(0, 50),
    exempt=st.integers(0, 50),
    excused=st.integers(0, 50),
    unexcused=st.integers(0, 50),
)
def test_exempted_members_are_never_absent(
    official: int, probationary: int, exempt: int, excused: int, unexcused: int
) -> None:
    text = f"{official} chính thức, {probationary} dự bị, {exempt} miễn, vắng {excused} có lý do, vắng {unexcused} không lý do"
    result = read(text)
    members = official + probationary
    if members == 0 or exempt > members or excused + unexcused > members - exempt:
        assert isinstance(result, Refusal)
        return
    assert isinstance(result, Ok)
    attendance = as_attendance(result.value)
    assert attendance is not None
    assert attendance.absent == excused + unexcused  # exempted members are not among the absent
    assert attendance.present + attendance.absent + attendance.exempt == members
    if attendance.expected:
        assert attendance.rate == attendance.present / (members - exempt)


def test_the_sum_over_reports_keeps_exempted_out_of_the_rate() -> None:
    field = FormField("dang_vien", "Đảng viên", FieldType.ATTENDANCE)
    rows = [
        UnitRow("a", "a", status=UnitStatus.REPORTED, values={"dang_vien": Attendance(18, 2, 2).to_json()}),
        UnitRow(
            "b", "b", status=UnitStatus.REPORTED, values={"dang_vien": Attendance(9, 1, 1, 1, 1).to_json()}
        ),
        UnitRow(
            "c", "c", status=UnitStatus.PENDING, values={"dang_vien": Attendance(50, 0, 0, 50).to_json()}
        ),
    ]
    total = Aggregates.from_rows([field], rows).attendance["dang_vien"]
    assert (total.present, total.expected, total.exempt) == (25, 27, 3)
    assert total.rate == 25 / 27


def test_a_one_message_report_carries_attendance_between_semicolons() -> None:
    text = "15/4; Nghị quyết Đại hội XIV; trực tuyến; 25 chính thức, 3 dự bị, 2 miễn, vắng 1 có lý do; 12; Tốt; Không"
    parsed = parse_quick_reply(HOC_TAP_NGHI_QUYET, text, TODAY)
    assert parsed.complete, parsed
    assert parsed.values["dang_vien"] == EXPECTED


def test_a_one_message_report_says_what_does_not_add_up() -> None:
    text = "15/4; Nghị quyết Đại hội XIV; trực tuyến; 25 chính thức, vắng 2; 12; Tốt; Không"
    parsed = parse_quick_reply(HOC_TAP_NGHI_QUYET, text, TODAY)
    assert [issue.key for issue in parsed.invalid] == ["dang_vien"]
    assert "có lý do hay không lý do" in parsed.invalid[0].message


def test_commas_of_an_attendance_answer_never_split_a_one_line_report() -> None:
    text = "15/4, Nghị quyết XIV, trực tuyến, 25 chính thức, 3 dự bị, 12, Tốt"
    parsed = parse_quick_reply(HOC_TAP_NGHI_QUYET, text, TODAY)
    assert "dang_vien" not in parsed.values
