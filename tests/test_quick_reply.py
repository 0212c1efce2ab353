"""Tests for one-message reports: splitting, directive prefixes, per-field results, refusals, and properties."""

from __future__ import annotations

import json
import unicodedata
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.textnorm import is_blank, nfc
from bot.services.field_parsers import is_skip_word
from bot.services.forms import SINH_HOAT_CHINH_TRI, TUYEN_TRUYEN, FormSpec
from bot.services.quick_reply import QuickParse, parse_quick_reply
from messages.formats import format_number
from messages.forms import quick_problems

TODAY = date(2024, 4, 20)
KNOWN = ["747-CV/ĐUK", "745-CV/ĐUK", "100 - KL/TW"]
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
FULL_VALUES = {
    "ngay_to_chuc": "2024-04-15",
    "hinh_thuc": "Sinh hoạt chuyên đề",
    "dang_vien": {"attended": 25, "total": 30},
    "quan_chung": 12,
    "ket_qua": "Tốt",
    "kho_khan": "Không",
}


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


def assert_vietnamese_message(message: str) -> None:
    assert message.strip()
    assert unicodedata.is_normalized("NFC", message), message
    assert VIETNAMESE_LETTERS & set(message), f"no Vietnamese letter in {message!r}"


def quick(text: str, form: FormSpec = SINH_HOAT_CHINH_TRI, known: list[str] | None = None) -> QuickParse:
    return parse_quick_reply(form, text, TODAY, KNOWN if known is None else known)


# --- accepted messages ------------------------------------------------------------------------------------


def test_the_reference_example_parses_completely() -> None:
    result = quick("15/4; chuyên đề; 25/30; 12; Tốt; Không")
    assert result == QuickParse(values=FULL_VALUES)
    assert result.complete


@pytest.mark.parametrize(
    "text",
    [
        "15/4\nchuyên đề\n25/30\n12\nTốt\nKhông",
        "15/4;chuyên đề;25/30;12;Tốt;Không;",
        "15/4; chuyên đề; 25/30\n12; Tốt; Không",
        "\n15/4; chuyên đề;\n\n25 / 30; 12;\nTốt\r\nKhông\n\n",
        "15/4 ; chuyen de ; 25 tren 30 ; 12 ; Tốt ; Không",
        "Ngày: 15/4; Hình thức: chuyên đề; Số ĐV: 25/30; Số quần chúng: 12; Kết quả: Tốt; Khó khăn: Không",
    ],
)
def test_separators_and_layouts(text: str) -> None:
    result = quick(text)
    assert result.values == FULL_VALUES
    assert result.complete


def test_nfd_message_parses_like_nfc() -> None:
    assert quick(nfd("15/4; chuyên đề; 25/30; 12; Tốt; Không")) == quick(
        "15/4; chuyên đề; 25/30; 12; Tốt; Không"
    )


def test_text_answers_keep_their_commas_and_case() -> None:
    result = quick("hôm qua; 1; 30/30; 0; Đạt 100%, sôi nổi; Thiếu tài liệu, đề nghị cấp thêm")
    assert result.values["ngay_to_chuc"] == "2024-04-19"
    assert result.values["ket_qua"] == "Đạt 100%, sôi nổi"
    assert result.values["kho_khan"] == "Thiếu tài liệu, đề nghị cấp thêm"


# --- directive prefixes -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("747: 15/4; chuyên đề; 25/30; 12; Tốt; Không", "747-CV/ĐUK"),
        ("747 : 15/4; chuyên đề; 25/30; 12; Tốt; Không", "747-CV/ĐUK"),
        ("747-CV/ĐUK 15/4; chuyên đề; 25/30; 12; Tốt; Không", "747-CV/ĐUK"),
        ("747-cv/duk: 15/4; chuyên đề; 25/30; 12; Tốt; Không", "747-CV/ĐUK"),
        ("Số 747-CV/ĐUK, 15/4; chuyên đề; 25/30; 12; Tốt; Không", "747-CV/ĐUK"),
        ("CV 745: 15/4; chuyên đề; 25/30; 12; Tốt; Không", "745-CV/ĐUK"),
        ("747 – CV/ĐUK 15/4; chuyên đề; 25/30; 12; Tốt; Không", "747-CV/ĐUK"),
        ("747/ĐUK: 15/4; chuyên đề; 25/30; 12; Tốt; Không", "747-CV/ĐUK"),
        ("747-CV/ĐUK\n15/4\nchuyên đề\n25/30\n12\nTốt\nKhông", "747-CV/ĐUK"),
        ("747-CV/ĐUK; 15/4; chuyên đề; 25/30; 12; Tốt; Không", "747-CV/ĐUK"),
        ("100-KL/TW: 15/4; chuyên đề; 25/30; 12; Tốt; Không", "100 - KL/TW"),
        ("747\n15/4\nchuyên đề\n25/30\n12\nTốt\nKhông", "747-CV/ĐUK"),
        ("747 15/4; chuyên đề; 25/30; 12; Tốt; Không", "747-CV/ĐUK"),
    ],
)
def test_directive_prefix_is_matched_to_a_known_number(text: str, number: str) -> None:
    result = quick(text)
    assert result.directive_number == number
    assert result.values == FULL_VALUES


def test_ambiguous_directive_number_is_refused_with_candidates() -> None:
    result = quick("747: 15/4; chuyên đề; 25/30", known=["747-CV/ĐUK", "747-KH/TU"])
    assert result.refusal is not None
    assert "747-CV/ĐUK" in result.refusal
    assert "747-KH/TU" in result.refusal
    assert not result.values
    assert_vietnamese_message(result.refusal)


def test_full_number_settles_what_the_bare_number_cannot() -> None:
    result = quick("747-KH/TU: 15/4; chuyên đề; 25/30", known=["747-CV/ĐUK", "747-KH/TU"])
    assert result.directive_number == "747-KH/TU"


def test_unknown_directive_is_refused_with_the_pending_list() -> None:
    result = quick("999: 15/4; chuyên đề; 25/30")
    assert result.refusal is not None
    assert "999" in result.refusal
    assert "747-CV/ĐUK" in result.refusal
    assert_vietnamese_message(result.refusal)


def test_unknown_directive_without_pending_list() -> None:
    result = quick("747-CV/ĐUK 15/4; chuyên đề; 25/30", known=[])
    assert result.refusal is not None
    assert "đang chờ:" not in result.refusal


def test_leading_count_is_an_answer_not_a_directive() -> None:
    result = quick("3; 120; 5; 300; Tốt; Không", form=TUYEN_TRUYEN, known=["3-KH/TU"])
    assert result.directive_number is None
    assert result.values["so_hoat_dong"] == 3
    assert result.complete


def test_leading_bare_number_is_a_directive_when_it_is_one_part_too_many() -> None:
    result = quick("747; 3; 120; 5; 300; Tốt; Không", form=TUYEN_TRUYEN)
    assert result.directive_number == "747-CV/ĐUK"
    assert result.values["so_hoat_dong"] == 3
    assert result.complete


def test_bare_number_not_pending_stays_an_answer() -> None:
    result = quick("999; 15/4; chuyên đề")
    assert result.directive_number is None
    assert result.refusal is None
    assert [issue.key for issue in result.invalid] == ["ngay_to_chuc", "hinh_thuc", "dang_vien"]


def test_directive_without_answers_is_refused() -> None:
    result = quick("747-CV/ĐUK")
    assert result.directive_number == "747-CV/ĐUK"
    assert result.refusal is not None
    assert "chưa có nội dung báo cáo" in result.refusal
    assert "ngày; hình thức" in result.refusal


# --- missing, skipped and invalid answers -----------------------------------------------------------------


def test_short_message_leaves_optional_fields_skipped() -> None:
    result = quick("15/4; chuyên đề; 25/30")
    assert result.skipped == ("quan_chung", "ket_qua", "kho_khan")
    assert result.missing == ()
    assert result.complete


def test_required_fields_not_given_are_missing() -> None:
    result = quick("15/4")
    assert result.values == {"ngay_to_chuc": "2024-04-15"}
    assert result.missing == ("hinh_thuc", "dang_vien")
    assert not result.complete


def test_empty_slots_and_skip_words() -> None:
    result = quick("15/4;; 25/30; bỏ qua; -; không có")
    assert result.missing == ("hinh_thuc",)
    assert result.skipped == ("quan_chung", "ket_qua", "kho_khan")


def test_invalid_answers_carry_label_and_message() -> None:
    result = quick("31/4; họp; 31/30; -5; Tốt")
    assert [issue.key for issue in result.invalid] == ["ngay_to_chuc", "hinh_thuc", "dang_vien", "quan_chung"]
    assert result.invalid[0].label == "Ngày tổ chức"
    assert "30 ngày" in result.invalid[0].message
    assert "Sinh hoạt chuyên đề" in result.invalid[1].message
    assert "không thể lớn hơn" in result.invalid[2].message
    assert "âm" in result.invalid[3].message
    assert result.values == {"ket_qua": "Tốt"}
    assert result.skipped == ("kho_khan",)
    for issue in result.invalid:
        assert_vietnamese_message(issue.message)


def test_required_field_refuses_skip_in_quick_reply() -> None:
    result = quick("bỏ qua; chuyên đề; 25/30")
    assert [issue.key for issue in result.invalid] == ["ngay_to_chuc"]
    assert "bắt buộc" in result.invalid[0].message


# --- whole-message refusals -------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   ", "\n\n", ";", " ; ;\n;", "\u200b"])
def test_empty_message_is_refused(text: str) -> None:
    result = quick(text)
    assert result.refusal is not None
    assert "ngày; hình thức; số ĐV dự/tổng số" in result.refusal
    assert_vietnamese_message(result.refusal)


def test_too_many_parts_is_refused_with_counts_and_template() -> None:
    result = quick("15/4; chuyên đề; 25/30; 12; Tốt; Không; thêm; nữa")
    assert result.refusal is not None
    assert "8 phần" in result.refusal
    assert "6 mục" in result.refusal
    assert SINH_HOAT_CHINH_TRI.quick_template() in result.refusal
    assert not result.values


# --- properties -------------------------------------------------------------------------------------------

PIECES = [
    "15/4",
    "hôm nay",
    nfd("hôm qua"),
    "chuyên đề",
    nfd("chuyên đề"),
    "25/30",
    "12",
    "1.234",
    "Tốt",
    "Không",
    "bỏ qua",
    "-",
    "747",
    "747-CV/ĐUK",
    "747:",
    ":",
    ";",
    "\n",
    " ",
    "日本語",
    "🇻🇳",
    "👍🏽",
    "Ngày:",
    "مرحبا",
]
MESSAGES = st.one_of(
    st.text(),
    st.just(""),
    st.lists(st.sampled_from(PIECES), max_size=20).map("".join),
    st.lists(st.sampled_from(PIECES), max_size=10).map("; ".join),
    st.sampled_from(PIECES).map(lambda piece: (piece * 10_000)[:10_000]),
    st.just(";" * 10_000),
)
FORMS = st.sampled_from([SINH_HOAT_CHINH_TRI, TUYEN_TRUYEN])
KNOWN_LISTS = st.sampled_from([[], KNOWN, ["747-CV/ĐUK", "747-KH/TU"], ["3-KH/TU", "12-CT/TW"]])


@settings(max_examples=300, deadline=None)
@given(form=FORMS, text=MESSAGES, known=KNOWN_LISTS, today=st.one_of(st.just(TODAY), st.dates()))
def test_any_message_gives_a_structured_result(
    form: FormSpec, text: str, known: list[str], today: date
) -> None:
    result = parse_quick_reply(form, text, today, known)
    assert parse_quick_reply(form, nfd(text), today, known) == parse_quick_reply(
        form, nfc(text), today, known
    )
    assert result.directive_number is None or result.directive_number in known
    if result.refusal is not None:
        assert_vietnamese_message(result.refusal)
        assert not (result.values or result.skipped or result.missing or result.invalid)
        return
    keys = [*result.values, *result.skipped, *result.missing, *(issue.key for issue in result.invalid)]
    assert sorted(keys) == sorted(spec.key for spec in form.quick_fields)
    for issue in result.invalid:
        assert_vietnamese_message(issue.message)
    json.dumps(result.values)


@st.composite
def typed_report(draw: st.DrawFn) -> tuple[str, dict[str, object]]:
    """A well-formed report in one of the accepted spellings, with the values it must produce."""
    day = TODAY - timedelta(days=draw(st.integers(0, 300)))
    total = draw(st.integers(1, 200))
    attended = draw(st.integers(0, total))
    masses = draw(st.integers(0, 10**6))
    choice_index = draw(st.integers(0, 4))
    choice = SINH_HOAT_CHINH_TRI.field("hinh_thuc").choices[choice_index]
    # Free text without separators, and not itself a skip word or a "label: value" pair.
    text_alphabet = st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp"), blacklist_characters=";:")
    result_text = draw(
        st.text(text_alphabet, min_size=1, max_size=50).filter(
            lambda t: not is_blank(t) and not is_skip_word(t)
        )
    )
    parts = [
        draw(
            st.sampled_from(
                [f"{day.day}/{day.month}/{day.year}", f"{day.day:02d}.{day.month:02d}.{day.year}"]
            )
        ),
        draw(st.sampled_from([choice, str(choice_index + 1), nfd(choice.lower())])),
        draw(st.sampled_from([f"{attended}/{total}", f"{attended} trên {total}"])),
        draw(st.sampled_from([str(masses), format_number(masses)])),
        result_text,
    ]
    separator = draw(st.sampled_from(["; ", ";", "\n"]))
    expected = {
        "ngay_to_chuc": day.isoformat(),
        "hinh_thuc": choice,
        "dang_vien": {"attended": attended, "total": total},
        "quan_chung": masses,
        "ket_qua": nfc(result_text).strip(),
    }
    return separator.join(parts), expected


@settings(deadline=None)
@given(typed_report())
def test_well_formed_reports_parse_to_their_values(report: tuple[str, dict[str, object]]) -> None:
    text, expected = report
    result = quick(text)
    assert result.values == expected
    assert result.complete


def test_problem_summary_lists_refused_then_missing_fields() -> None:
    result = quick("31/4")
    labels = {spec.key: spec.label for spec in SINH_HOAT_CHINH_TRI.fields}
    text = quick_problems(
        [labels[key] for key in result.missing], [(issue.label, issue.message) for issue in result.invalid]
    )
    lines = text.splitlines()
    assert lines[0] == "Chưa hợp lệ:"
    assert lines[1].startswith("• Ngày tổ chức: ") and "30 ngày" in lines[1]
    assert lines[2:] == ["Còn thiếu:", "• Hình thức", "• Số đảng viên tham gia / tổng số đảng viên"]


# --- commas as separators ---------------------------------------------------------------------------------


def test_commas_separate_answers_when_the_reading_is_unambiguous() -> None:
    result = quick("15/4, chuyên đề, 25/30, 12, Tốt, Không")
    assert result.complete and result.values == FULL_VALUES
    named = quick("747: 15/4,chuyên đề,25/30, 12,Tốt,Không")  # "30,12" with no space would be a decimal
    assert named.directive_number == "747-CV/ĐUK" and named.values == FULL_VALUES


def test_commas_inside_the_last_text_answer_stay_in_it() -> None:
    result = quick("15/4, chuyên đề, 25/30, 12, Tốt, Thiếu kinh phí, thiếu người")
    assert result.complete
    assert result.values["kho_khan"] == "Thiếu kinh phí, thiếu người"


def test_a_decimal_comma_is_no_separator_and_a_wrong_count_is_no_comma_reading() -> None:
    # "1,5" is one number: read with it, the parts are five, not six, so the commas are not taken as separators.
    assert quick("15/4, chuyên đề, 25/30, 1,5, Tốt").values.get("ngay_to_chuc") is None
    assert quick("15/4, chuyên đề, 25/30").values.get("ngay_to_chuc") is None  # three parts for six fields
    with_semicolons = quick("15/4; chuyên đề; 25/30; 12; Tốt, rất tốt; Không")
    assert with_semicolons.values["ket_qua"] == "Tốt, rất tốt"  # ";" given: commas are the answer's own
