"""Tests for text folding and the per-field answer parsers: every accepted and refused format, and properties."""

from __future__ import annotations

import json
import unicodedata
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.textnorm import fold, is_blank, nfc
from bot.services.field_parsers import Ok, Refusal, Skipped, is_skip_word, parse_field
from bot.services.forms import SINH_HOAT_CHINH_TRI, TUYEN_TRUYEN, FieldSpec, FieldType
from messages.formats import format_date, format_number

TODAY = date(2024, 4, 20)
TONES = ("", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323")
VIETNAMESE_LETTERS = frozenset(
    {
        letter
        for base in "aăâeêioôơuưy"
        for tone in TONES
        for letter in (nfc(base + tone), nfc(base + tone).upper())
        if letter.lower() not in "aeiouy"
    }
    | {"đ", "Đ"}
)


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


def assert_vietnamese_message(message: str) -> None:
    assert message.strip(), "refusal without a message"
    assert unicodedata.is_normalized("NFC", message), message
    assert VIETNAMESE_LETTERS & set(message), f"no Vietnamese letter in {message!r}"


DATE = FieldSpec("ngay", "Ngày tổ chức", FieldType.DATE)
NUMBER = FieldSpec("so", "Số người", FieldType.NUMBER)
NUMBER_OPTIONAL = FieldSpec("so", "Số người", FieldType.NUMBER, required=False)
RATIO = FieldSpec("tl", "Số đảng viên tham gia / tổng số", FieldType.RATIO)
CHOICE = SINH_HOAT_CHINH_TRI.field("hinh_thuc")
TEXT = FieldSpec("kq", "Kết quả", FieldType.TEXT)
TEXT_OPTIONAL = FieldSpec("kq", "Kết quả", FieldType.TEXT, required=False)
PHOTO_OPTIONAL = FieldSpec("anh", "Ảnh minh chứng", FieldType.PHOTO, required=False)
PHOTO_REQUIRED = FieldSpec("anh", "Ảnh minh chứng", FieldType.PHOTO)


# --- textnorm ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Sinh hoạt Chuyên Đề", "sinh hoat chuyen de"),
        ("  HÔM   nay\t", "hom nay"),
        ("Đảng ủy Khối", "dang uy khoi"),
        ("hoà / hòa", "hoa / hoa"),
        ("a\u00a0\u2009b", "a b"),
        ("zero\u200bwidth", "zerowidth"),
        ("", ""),
    ],
)
def test_fold_examples(text: str, folded: str) -> None:
    assert fold(text) == folded
    assert fold(nfd(text)) == folded


def test_nfc_composes_decomposed_vietnamese() -> None:
    decomposed = nfd("Bí thư chi bộ")
    assert decomposed != "Bí thư chi bộ"
    assert nfc(decomposed) == "Bí thư chi bộ"


@pytest.mark.parametrize(
    ("text", "blank"), [(None, True), ("", True), (" \n\t", True), ("\u200b ", True), (".", False)]
)
def test_is_blank(text: str | None, blank: bool) -> None:
    assert is_blank(text) is blank


@given(st.text(alphabet=st.sampled_from(" \t\n\u200b\u200d\ufeff\u00ada.ệ")) | st.text())
def test_is_blank_means_nothing_visible(text: str) -> None:
    visible = [ch for ch in text if not ch.isspace() and unicodedata.category(ch) != "Cf"]
    assert is_blank(text) is (not visible)


@given(st.text())
def test_fold_is_idempotent_and_accent_free(text: str) -> None:
    folded = fold(text)
    assert fold(folded) == folded
    assert fold(nfd(text)) == folded
    assert not any(unicodedata.combining(ch) for ch in folded)
    assert "đ" not in folded


# --- dates ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("15/4", "2024-04-15"),
        ("15/04/2024", "2024-04-15"),
        ("15-4-2024", "2024-04-15"),
        ("15.4.2024", "2024-04-15"),
        ("15 / 4 / 2024", "2024-04-15"),
        ("15/4/24", "2024-04-15"),
        ("ngày 15/4", "2024-04-15"),
        ("Ngày 15 tháng 4 năm 2024", "2024-04-15"),
        ("15 thang 4", "2024-04-15"),
        ("2024-04-15", "2024-04-15"),
        ("１５/４", "2024-04-15"),
        ("hôm nay", "2024-04-20"),
        ("hom nay", "2024-04-20"),
        ("Hôm Nay.", "2024-04-20"),
        ("hôm qua", "2024-04-19"),
        ("hom qua", "2024-04-19"),
        ("ngày hôm qua", "2024-04-19"),
        ("hôm kia", "2024-04-18"),
        ("21/4", "2024-04-21"),
        ("21/4/2023", "2023-04-21"),
    ],
)
def test_date_accepted(text: str, expected: str) -> None:
    assert parse_field(DATE, text, TODAY) == Ok(expected)
    assert parse_field(DATE, nfd(text), TODAY) == Ok(expected)


def test_date_without_year_in_january_means_last_december() -> None:
    assert parse_field(DATE, "28/12", date(2025, 1, 5)) == Ok("2024-12-28")


def test_date_without_year_a_few_days_ahead_is_refused_not_moved_to_last_year() -> None:
    result = parse_field(DATE, "25/4", TODAY)
    assert isinstance(result, Refusal)
    assert "25/04/2024 chưa tới" in result.message


def test_date_without_year_in_december_can_mean_next_january_for_planned_dates() -> None:
    planned = FieldSpec("ngay", "Ngày dự kiến", FieldType.DATE, min=0, max=90)
    assert parse_field(planned, "5/1", date(2024, 12, 20)) == Ok("2025-01-05")


def test_date_29_february_without_year_finds_the_leap_year() -> None:
    assert parse_field(DATE, "29/2", date(2025, 2, 10)) == Ok("2024-02-29")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("31/4", "tháng 4/2024 chỉ có 30 ngày"),
        ("29/2/2023", "tháng 2/2023 chỉ có 28 ngày"),
        ("31/6/2023", "chỉ có 30 ngày"),
        ("13/13", "Tháng 13 không hợp lệ"),
        ("4/15", "Tháng 15 không hợp lệ"),
        ("0/4", "Ngày 0 không hợp lệ"),
        ("32/1", "Ngày 32 không hợp lệ"),
        ("15/4/202", "Năm 202 không hợp lệ"),
        ("15/4/0000", "Năm 0000 không hợp lệ"),
        ("25/4/2024", "chưa tới"),
        ("15/4/2025", "chưa tới"),
        ("1/1/2020", "đã quá xa"),
        ("19/4/2023", "đã quá xa"),
        ("abc", "Chưa hiểu ngày"),
        ("15/4/2024/1", "Chưa hiểu ngày"),
        ("15/4-2024", "Chưa hiểu ngày"),
        ("ngày mai", "Chưa hiểu ngày"),
    ],
)
def test_date_refused_with_precise_message(text: str, fragment: str) -> None:
    result = parse_field(DATE, text, TODAY)
    assert isinstance(result, Refusal)
    assert fragment in result.message
    assert_vietnamese_message(result.message)


def test_date_refusal_names_the_allowed_range() -> None:
    result = parse_field(DATE, "1/1/2020", TODAY)
    assert isinstance(result, Refusal)
    assert format_date(TODAY - timedelta(days=366)) in result.message
    assert format_date(TODAY + timedelta(days=1)) in result.message


def test_date_window_comes_from_min_and_max() -> None:
    planned = FieldSpec("ngay", "Ngày dự kiến", FieldType.DATE, min=0, max=60)
    assert parse_field(planned, "10/6/2024", TODAY) == Ok("2024-06-10")
    assert isinstance(parse_field(planned, "hôm qua", TODAY), Refusal)
    assert isinstance(parse_field(planned, "1/7/2024", TODAY), Refusal)


def test_relative_date_at_the_calendar_edge_is_refused_not_raised() -> None:
    result = parse_field(DATE, "hôm qua", date.min)
    assert isinstance(result, Refusal)
    assert_vietnamese_message(result.message)


# --- numbers ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1234", 1234),
        ("1.234", 1234),
        ("1 234", 1234),
        ("1\u00a0234", 1234),
        ("1.234.567", 1_234_567),
        ("0", 0),
        ("007", 7),
        ("12 người", 12),
        ("12người", 12),
        ("5 tin bài", 5),
        ("30 lượt", 30),
        ("12.", 12),
        ("１２", 12),
    ],
)
def test_number_accepted(text: str, expected: int) -> None:
    assert parse_field(NUMBER, text, TODAY) == Ok(expected)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("-5", "không được âm"),
        ("−5", "không được âm"),
        ("- 5", "không được âm"),
        ("1,5", "số nguyên"),
        ("2.5", "số nguyên"),
        ("1,234", "số nguyên"),
        ("1.2345", "số nguyên"),
        ("mười hai", "bằng chữ số"),
        ("nhiều", "bằng chữ số"),
        ("khoảng 30", "Chưa hiểu số"),
        ("25-30", "Chưa hiểu số"),
        ("1.234 567", "Chưa hiểu số"),
        ("9" * 40, "quá lớn"),
        ("1.000.000.000.001", "quá lớn"),
    ],
)
def test_number_refused_with_specific_message(text: str, fragment: str) -> None:
    result = parse_field(NUMBER, text, TODAY)
    assert isinstance(result, Refusal)
    assert fragment in result.message
    assert_vietnamese_message(result.message)


def test_number_bounds_from_spec() -> None:
    bounded = FieldSpec("so", "Số buổi", FieldType.NUMBER, min=1, max=1000)
    assert parse_field(bounded, "1.000", TODAY) == Ok(1000)
    too_small = parse_field(bounded, "0", TODAY)
    too_large = parse_field(bounded, "1.001", TODAY)
    assert isinstance(too_small, Refusal)
    assert "từ 1 trở lên" in too_small.message
    assert isinstance(too_large, Refusal)
    assert "đến 1.000" in too_large.message


# --- ratios -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "attended", "total"),
    [
        ("25/30", 25, 30),
        ("25 / 30", 25, 30),
        ("25 trên 30", 25, 30),
        ("25 tren 30", 25, 30),
        ("25 trên tổng số 30", 25, 30),
        ("25/30 đồng chí", 25, 30),
        ("0/12", 0, 12),
        ("30/30", 30, 30),
        ("1.200/1.500", 1200, 1500),
    ],
)
def test_ratio_accepted(text: str, attended: int, total: int) -> None:
    assert parse_field(RATIO, text, TODAY) == Ok({"attended": attended, "total": total})
    assert parse_field(RATIO, nfd(text), TODAY) == Ok({"attended": attended, "total": total})


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("31/30", "không thể lớn hơn tổng số"),
        ("0/0", "Tổng số phải lớn hơn 0"),
        ("5/0", "Tổng số phải lớn hơn 0"),
        ("25", "Cần đủ hai số"),
        ("-5/30", "không được âm"),
        ("25,5/30", "số nguyên"),
        ("25/30/40", "Chưa hiểu"),
        ("/30", "Chưa hiểu"),
        ("hai lăm/ba mươi", "bằng chữ số"),
        ("nhiều", "bằng chữ số"),
    ],
)
def test_ratio_refused(text: str, fragment: str) -> None:
    result = parse_field(RATIO, text, TODAY)
    assert isinstance(result, Refusal)
    assert fragment in result.message
    assert_vietnamese_message(result.message)


# --- choices ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Sinh hoạt chuyên đề", "Sinh hoạt chuyên đề"),
        ("sinh hoat chuyen de", "Sinh hoạt chuyên đề"),
        ("chuyen de", "Sinh hoạt chuyên đề"),
        ("chuyên đề", "Sinh hoạt chuyên đề"),
        ("CHUYÊN ĐỀ.", "Sinh hoạt chuyên đề"),
        ("2", "Sinh hoạt chuyên đề"),
        ("2.", "Sinh hoạt chuyên đề"),
        ("1", "Sinh hoạt chi bộ thường kỳ"),
        ("thuong ky", "Sinh hoạt chi bộ thường kỳ"),
        ("toa dam", "Hội nghị / tọa đàm"),
        ("hội nghị", "Hội nghị / tọa đàm"),
        ("truc tuyen", "Trực tuyến"),
        ("khac", "Khác"),
        ("5", "Khác"),
    ],
)
def test_choice_accepted(text: str, expected: str) -> None:
    assert parse_field(CHOICE, text, TODAY) == Ok(expected)
    assert parse_field(CHOICE, nfd(text), TODAY) == Ok(expected)


def test_choice_ambiguous_lists_only_the_matching_options() -> None:
    result = parse_field(CHOICE, "sinh hoạt", TODAY)
    assert isinstance(result, Refusal)
    assert "1. Sinh hoạt chi bộ thường kỳ" in result.message
    assert "2. Sinh hoạt chuyên đề" in result.message
    assert "Trực tuyến" not in result.message


@pytest.mark.parametrize(
    ("text", "fragment"), [("họp chi ủy", "Chưa rõ"), ("9", "Không có lựa chọn số 9"), ("k", "quá ngắn")]
)
def test_choice_refused_lists_every_option(text: str, fragment: str) -> None:
    result = parse_field(CHOICE, text, TODAY)
    assert isinstance(result, Refusal)
    assert fragment in result.message
    assert all(choice in result.message for choice in CHOICE.choices)
    assert_vietnamese_message(result.message)


def test_choice_named_like_a_skip_word_is_still_a_choice() -> None:
    spec = FieldSpec(
        "co", "Có phát sinh vụ việc?", FieldType.CHOICE, required=False, choices=("Có", "Không có")
    )
    assert parse_field(spec, "không có", TODAY) == Ok("Không có")
    assert parse_field(spec, "bỏ qua", TODAY) == Skipped()


# --- text and photos --------------------------------------------------------------------------------------


def test_text_is_trimmed_and_nfc() -> None:
    assert parse_field(TEXT, "  " + nfd("Tốt, đúng kế hoạch") + "\n", TODAY) == Ok("Tốt, đúng kế hoạch")


def test_text_keeps_inner_lines_and_drops_control_characters() -> None:
    assert parse_field(TEXT, "Dòng 1\r\nDòng\x00 2", TODAY) == Ok("Dòng 1\nDòng 2")


def test_text_no_is_an_answer_not_a_skip() -> None:
    assert parse_field(TEXT_OPTIONAL, "Không", TODAY) == Ok("Không")


def test_text_length_limit_default_and_custom() -> None:
    assert parse_field(TEXT, "a" * 500, TODAY) == Ok("a" * 500)
    too_long = parse_field(TEXT, "a" * 501, TODAY)
    assert isinstance(too_long, Refusal)
    assert "501" in too_long.message
    assert "500" in too_long.message
    short = FieldSpec("kq", "Kết quả", FieldType.TEXT, max_length=10)
    assert isinstance(parse_field(short, "12345678901", TODAY), Refusal)


def test_required_text_accepts_none_as_a_real_answer() -> None:
    assert parse_field(TUYEN_TRUYEN.field("kho_khan"), "không có", TODAY) == Ok("không có")
    assert isinstance(parse_field(TUYEN_TRUYEN.field("kho_khan"), "bỏ qua", TODAY), Refusal)


def test_photo_field_asks_for_a_photo() -> None:
    optional = parse_field(PHOTO_OPTIONAL, "đây là ảnh", TODAY)
    required = parse_field(PHOTO_REQUIRED, "đây là ảnh", TODAY)
    assert isinstance(optional, Refusal)
    assert "gửi ảnh" in optional.message
    assert "bỏ qua" in optional.message
    assert isinstance(required, Refusal)
    assert "gửi ảnh" in required.message
    assert "bỏ qua" not in required.message
    assert parse_field(PHOTO_OPTIONAL, "bỏ qua", TODAY) == Skipped()


# --- skipping ---------------------------------------------------------------------------------------------

SKIP_WORDS = ("bỏ qua", "bo qua", "Bỏ qua.", "-", "–", "không có", "khong co", "KHÔNG CÓ")


@pytest.mark.parametrize("word", SKIP_WORDS)
@pytest.mark.parametrize(
    "spec",
    [
        FieldSpec("a", "Ngày", FieldType.DATE, required=False),
        NUMBER_OPTIONAL,
        FieldSpec("c", "Tỉ lệ", FieldType.RATIO, required=False),
        FieldSpec("d", "Hình thức", FieldType.CHOICE, required=False, choices=("Trực tiếp", "Trực tuyến")),
        TEXT_OPTIONAL,
        PHOTO_OPTIONAL,
    ],
    ids=lambda spec: spec.type.value,
)
def test_optional_fields_accept_skip_words(word: str, spec: FieldSpec) -> None:
    assert is_skip_word(word)
    assert parse_field(spec, word, TODAY) == Skipped()
    assert parse_field(spec, nfd(word), TODAY) == Skipped()


@pytest.mark.parametrize("word", ["bỏ qua", "-", "không có"])
@pytest.mark.parametrize("spec", [DATE, NUMBER, RATIO, CHOICE], ids=lambda spec: spec.type.value)
def test_required_fields_refuse_skipping(word: str, spec: FieldSpec) -> None:
    result = parse_field(spec, word, TODAY)
    assert isinstance(result, Refusal)
    assert "bắt buộc" in result.message


def test_required_number_suggests_zero() -> None:
    result = parse_field(NUMBER, "không có", TODAY)
    assert isinstance(result, Refusal)
    assert "nhập 0" in result.message


@pytest.mark.parametrize("spec", [DATE, NUMBER, RATIO, CHOICE, TEXT], ids=lambda spec: spec.type.value)
def test_blank_answer(spec: FieldSpec) -> None:
    result = parse_field(spec, "   ", TODAY)
    assert isinstance(result, Refusal)
    assert "bắt buộc" in result.message
    assert (
        parse_field(FieldSpec("x", "Mục", spec.type, required=False, choices=spec.choices), " ", TODAY)
        == Skipped()
    )


# --- properties -------------------------------------------------------------------------------------------

ALL_SPECS = [
    *SINH_HOAT_CHINH_TRI.fields,
    *TUYEN_TRUYEN.fields,
    DATE,
    FieldSpec("d2", "Ngày dự kiến", FieldType.DATE, min=-30, max=365),
    NUMBER,
    FieldSpec("n2", "Số buổi", FieldType.NUMBER, min=1, max=50),
    RATIO,
    FieldSpec("r2", "Tỉ lệ", FieldType.RATIO, required=False),
    FieldSpec("c2", "Có hay không", FieldType.CHOICE, choices=("Có", "Không", "Không có")),
    TEXT,
    FieldSpec("t2", "Ghi chú", FieldType.TEXT, required=False, max_length=20),
    PHOTO_REQUIRED,
]

VIETNAMESE_SAMPLES = [
    "hôm nay",
    "hôm qua",
    "chuyên đề",
    "Sinh hoạt chuyên đề",
    "Hội nghị / tọa đàm",
    "bỏ qua",
    "không có",
    "25 trên 30",
    "12 người",
    "Ngày 15 tháng 4 năm 2024",
    "Đảng viên ưu tú",
    "Khó khăn: thiếu kinh phí; đề nghị hỗ trợ",
]
MIXED_SCRIPT_PIECES = [
    "15/4",
    "25/30",
    "1.234",
    "Tốt",
    "日本語",
    "русский",
    "عربى",
    "१२",
    "٣٤",
    "🇻🇳",
    "👍🏽",
    "\u200d",
    " ",
    ";",
    "\n",
]


def inputs() -> st.SearchStrategy[str]:
    """Free text, Vietnamese in both normal forms, mixed scripts and emoji, empty and very long input."""
    vietnamese = st.sampled_from(VIETNAMESE_SAMPLES)
    return st.one_of(
        st.text(),
        st.just(""),
        vietnamese,
        vietnamese.map(nfd),
        st.lists(st.sampled_from(MIXED_SCRIPT_PIECES + VIETNAMESE_SAMPLES), max_size=12).map("".join),
        st.from_regex(r"\A-?[0-9 .,/-]{0,14}( ?(tren|trên|người|/) ?[0-9.]{0,6})?\Z"),
        st.sampled_from(MIXED_SCRIPT_PIECES + VIETNAMESE_SAMPLES).map(
            lambda piece: (piece * 10_000)[:10_000]
        ),
    )


@settings(max_examples=300, deadline=None)
@given(spec=st.sampled_from(ALL_SPECS), text=inputs(), today=st.one_of(st.just(TODAY), st.dates()))
def test_any_input_gives_a_structured_result(spec: FieldSpec, text: str, today: date) -> None:
    result = parse_field(spec, text, today)
    assert isinstance(result, Ok | Skipped | Refusal)
    if isinstance(result, Refusal):
        assert_vietnamese_message(result.message)
    if isinstance(result, Ok):
        assert json.loads(json.dumps(result.value)) == result.value
    assert parse_field(spec, nfd(text), today) == parse_field(spec, nfc(text), today)


@settings(max_examples=200, deadline=None)
@given(spec=st.sampled_from(ALL_SPECS), text=inputs(), today=st.dates())
def test_accepted_values_respect_the_spec(spec: FieldSpec, text: str, today: date) -> None:
    result = parse_field(spec, text, today)
    if not isinstance(result, Ok):
        return
    value = result.value
    if spec.type is FieldType.DATE:
        low, high = spec.date_window
        offset = (date.fromisoformat(value) - today).days
        assert low <= offset <= high
    elif spec.type is FieldType.NUMBER:
        assert isinstance(value, int)
        assert value >= max(0, spec.min or 0)
        assert spec.max is None or value <= spec.max
    elif spec.type is FieldType.RATIO:
        assert 0 <= value["attended"] <= value["total"]
        assert value["total"] > 0
    elif spec.type is FieldType.CHOICE:
        assert value in spec.choices
    elif spec.type is FieldType.TEXT:
        assert len(value) <= spec.text_limit
        assert unicodedata.is_normalized("NFC", value)
    else:
        pytest.fail(f"a {spec.type} field accepted text: {value!r}")


@given(
    offset=st.integers(min_value=-366, max_value=1),
    separator=st.sampled_from("/.-"),
    today=st.dates(date(2000, 1, 1), date(2100, 1, 1)),
)
def test_dates_in_the_window_round_trip(offset: int, separator: str, today: date) -> None:
    day = today + timedelta(days=offset)
    typed = separator.join((str(day.day), str(day.month), str(day.year)))
    assert parse_field(DATE, typed, today) == Ok(day.isoformat())


@given(st.integers(min_value=0, max_value=10**12))
def test_numbers_round_trip_in_every_grouping(value: int) -> None:
    grouped = format_number(value)
    for typed in (str(value), grouped, grouped.replace(".", " ")):
        assert parse_field(NUMBER, typed, TODAY) == Ok(value)


@given(total=st.integers(min_value=1, max_value=10**6), data=st.data())
def test_ratios_round_trip(total: int, data: st.DataObject) -> None:
    attended = data.draw(st.integers(min_value=0, max_value=total))
    separator = data.draw(st.sampled_from(["/", " / ", " trên ", " tren "]))
    assert parse_field(RATIO, f"{attended}{separator}{total}", TODAY) == Ok(
        {"attended": attended, "total": total}
    )


@given(index=st.integers(min_value=0, max_value=len(CHOICE.choices) - 1))
def test_every_choice_is_reachable_by_name_number_and_folded_name(index: int) -> None:
    choice = CHOICE.choices[index]
    for typed in (choice, nfd(choice), fold(choice), choice.upper(), str(index + 1)):
        assert parse_field(CHOICE, typed, TODAY) == Ok(choice)


def test_day_month_months_ahead_means_the_last_occurrence() -> None:
    from datetime import date as _date

    from bot.services.field_parsers import Ok as _Ok
    from bot.services.field_parsers import parse_field as _parse
    from bot.services.forms import SINH_HOAT_CHINH_TRI

    spec = SINH_HOAT_CHINH_TRI.fields[0]
    assert _parse(spec, "15/4", _date(2026, 11, 22)) == _Ok("2026-04-15")
