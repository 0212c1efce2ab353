"""Tests for form specifications: the built-in forms, JSON storage, and loading custom forms from YAML."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.textnorm import nfc
from bot.services.forms import (
    BAO_CAO_NHANH,
    BUILTIN_FORMS,
    HOC_TAP_NGHI_QUYET,
    SINH_HOAT_CHINH_TRI,
    TU_TUONG_DU_LUAN,
    TUYEN_TRUYEN,
    FieldSpec,
    FieldType,
    FormErrors,
    FormSpec,
    form_from_dict,
    form_to_dict,
    form_to_yaml,
    load_form_yaml,
)

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "form-custom.yaml"
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


def assert_vietnamese_message(message: str) -> None:
    assert message.strip()
    assert unicodedata.is_normalized("NFC", message), message
    assert VIETNAMESE_LETTERS & set(message), f"no Vietnamese letter in {message!r}"


def errors_of(text: str) -> FormErrors:
    result = load_form_yaml(text)
    assert isinstance(result, FormErrors), f"expected errors, got {result!r}"
    for error in result.errors:
        assert_vietnamese_message(error.message)
    return result


def paths(errors: FormErrors) -> list[str]:
    return [error.path for error in errors.errors]


# --- built-in forms ---------------------------------------------------------------------------------------


def test_builtin_forms_are_registered_by_key() -> None:
    assert BUILTIN_FORMS == {
        "sinh-hoat-chinh-tri": SINH_HOAT_CHINH_TRI,
        "tuyen-truyen": TUYEN_TRUYEN,
        "hoc-tap-nghi-quyet": HOC_TAP_NGHI_QUYET,
        "tu-tuong-du-luan": TU_TUONG_DU_LUAN,
        "bao-cao-nhanh": BAO_CAO_NHANH,
    }
    assert SINH_HOAT_CHINH_TRI.title == "Báo cáo kết quả sinh hoạt chính trị, tư tưởng"
    assert TUYEN_TRUYEN.title == "Báo cáo kết quả tuyên truyền"
    assert [form.key for form in BUILTIN_FORMS.values() if form.rapid] == ["bao-cao-nhanh"]


def test_resolution_study_form_counts_members_by_attendance() -> None:
    kinds = {f.key: f.type for f in HOC_TAP_NGHI_QUYET.fields}
    assert kinds["dang_vien"] is FieldType.ATTENDANCE
    assert kinds["quan_chung"] is FieldType.NUMBER
    assert kinds["hinh_thuc"] is FieldType.CHOICE


def test_opinion_form_tags_each_item_with_a_fixed_topic_and_urgency() -> None:
    assert "Thông tin xấu, độc trên mạng xã hội" in TU_TUONG_DU_LUAN.field("chu_de").choices
    assert TU_TUONG_DU_LUAN.field("muc_do").choices == ("Bình thường", "Cần theo dõi", "Cần xử lý ngay")


def test_rapid_flag_round_trips_and_must_be_yes_or_no() -> None:
    assert form_from_dict(form_to_dict(BAO_CAO_NHANH)) == BAO_CAO_NHANH
    assert load_form_yaml(form_to_yaml(BAO_CAO_NHANH)) == BAO_CAO_NHANH
    assert "rapid" not in form_to_dict(TUYEN_TRUYEN)  # stored forms of before are unchanged
    text = form_to_yaml(TUYEN_TRUYEN).replace("title:", "rapid: có\ntitle:", 1)
    assert paths(errors_of(text)) == ["rapid"]


def test_attendance_field_type_loads_from_yaml() -> None:
    form = load_form_yaml(
        "key: hop\ntitle: Họp chi bộ\nfields:\n- key: du_hop\n  label: Dự họp\n  type: attendance\n"
    )
    assert isinstance(form, FormSpec)
    assert form.fields[0].type is FieldType.ATTENDANCE


def test_political_study_form_fields() -> None:
    summary = [(f.key, f.label, f.type, f.required) for f in SINH_HOAT_CHINH_TRI.fields]
    assert summary == [
        ("ngay_to_chuc", "Ngày tổ chức", FieldType.DATE, True),
        ("hinh_thuc", "Hình thức", FieldType.CHOICE, True),
        ("dang_vien", "Số đảng viên tham gia / tổng số đảng viên", FieldType.RATIO, True),
        ("quan_chung", "Số quần chúng tham gia", FieldType.NUMBER, False),
        ("ket_qua", "Kết quả nổi bật", FieldType.TEXT, False),
        ("kho_khan", "Khó khăn, kiến nghị", FieldType.TEXT, False),
        ("anh", "Ảnh minh chứng", FieldType.PHOTO, False),
    ]
    assert SINH_HOAT_CHINH_TRI.field("hinh_thuc").choices == (
        "Sinh hoạt chi bộ thường kỳ",
        "Sinh hoạt chuyên đề",
        "Hội nghị / tọa đàm",
        "Trực tuyến",
        "Khác",
    )


def test_propaganda_form_fields() -> None:
    summary = [(f.key, f.label, f.type, f.required) for f in TUYEN_TRUYEN.fields]
    assert summary == [
        ("so_hoat_dong", "Số hoạt động đã tổ chức", FieldType.NUMBER, True),
        ("luot_tham_gia", "Số lượt người tham gia", FieldType.NUMBER, True),
        ("so_tin_bai", "Số tin, bài đã đăng", FieldType.NUMBER, True),
        ("tuong_tac", "Lượt tương tác trên mạng xã hội", FieldType.NUMBER, False),
        ("ket_qua", "Kết quả nổi bật", FieldType.TEXT, True),
        ("kho_khan", "Khó khăn, kiến nghị", FieldType.TEXT, True),
    ]


def test_quick_templates_skip_photos() -> None:
    assert SINH_HOAT_CHINH_TRI.quick_template() == (
        "ngày; hình thức; số ĐV dự/tổng số; số quần chúng; kết quả; khó khăn"
    )
    assert TUYEN_TRUYEN.quick_template() == (
        "số hoạt động; số lượt tham gia; số tin bài; lượt tương tác; kết quả; khó khăn"
    )
    assert [f.key for f in SINH_HOAT_CHINH_TRI.photo_fields] == ["anh"]
    assert "anh" not in [f.key for f in SINH_HOAT_CHINH_TRI.quick_fields]


def test_quick_template_falls_back_to_the_label() -> None:
    form = FormSpec("x", "Mẫu", (FieldSpec("so", "Số buổi", FieldType.NUMBER),))
    assert form.quick_template() == "số buổi"


def test_field_lookup() -> None:
    assert SINH_HOAT_CHINH_TRI.field("dang_vien").type is FieldType.RATIO
    assert SINH_HOAT_CHINH_TRI.field("khong_co") is None


@pytest.mark.parametrize("form", list(BUILTIN_FORMS.values()), ids=list(BUILTIN_FORMS))
def test_builtin_texts_are_nfc(form: FormSpec) -> None:
    texts = [form.title]
    for spec in form.fields:
        texts += [spec.label, spec.short_label, spec.hint or "", *spec.choices]
    assert all(unicodedata.is_normalized("NFC", text) for text in texts)


# --- JSON storage -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("form", list(BUILTIN_FORMS.values()), ids=list(BUILTIN_FORMS))
def test_builtin_forms_round_trip_through_json(form: FormSpec) -> None:
    stored = json.loads(json.dumps(form_to_dict(form), ensure_ascii=False))
    assert form_from_dict(stored) == form


def test_form_to_dict_leaves_out_unset_options() -> None:
    data = form_to_dict(SINH_HOAT_CHINH_TRI)
    date_field = data["fields"][0]
    assert date_field == {
        "key": "ngay_to_chuc",
        "label": "Ngày tổ chức",
        "type": "date",
        "required": True,
        "hint": "Ví dụ: 15/4, 15/4/2024 hoặc “hôm nay”",
        "short": "ngày",
    }
    assert data["fields"][1]["choices"][1] == "Sinh hoạt chuyên đề"


@pytest.mark.parametrize("data", [None, [], "form", 3, {"key": "x"}])
def test_form_from_dict_refuses_bad_data(data: object) -> None:
    result = form_from_dict(data)
    assert isinstance(result, FormErrors)
    assert result.errors
    assert_vietnamese_message(result.render())


@pytest.mark.parametrize("form", list(BUILTIN_FORMS.values()), ids=list(BUILTIN_FORMS))
def test_form_yaml_round_trip(form: FormSpec) -> None:
    assert load_form_yaml(form_to_yaml(form)) == form


# --- custom forms from YAML -------------------------------------------------------------------------------


def test_example_file_loads() -> None:
    form = load_form_yaml(EXAMPLE.read_text(encoding="utf-8"))
    assert isinstance(form, FormSpec), form.render() if isinstance(form, FormErrors) else form
    assert form.key == "hoc-tap-chuyen-de"
    assert [f.type for f in form.fields] == [
        FieldType.DATE,
        FieldType.CHOICE,
        FieldType.RATIO,
        FieldType.NUMBER,
        FieldType.TEXT,
        FieldType.PHOTO,
    ]
    assert form.field("ngay_to_chuc").date_window == (-180, 1)
    assert form.field("viet_thu_hoach").max == 500
    assert form.field("y_kien").text_limit == 1000
    assert form.quick_template() == "ngày; hình thức; số ĐV dự/tổng số; số bài thu hoạch; kiến nghị"


def test_minimal_yaml_uses_defaults() -> None:
    form = load_form_yaml(
        "key: ngan\ntitle: Mẫu ngắn\nfields:\n  - {key: so, label: Số buổi, type: NUMBER}\n"
    )
    assert form == FormSpec("ngan", "Mẫu ngắn", (FieldSpec("so", "Số buổi", FieldType.NUMBER),))


def test_yaml_text_is_normalised_to_nfc() -> None:
    decomposed = unicodedata.normalize("NFD", "Báo cáo chuyên đề")
    form = load_form_yaml(
        f"key: cd\ntitle: '  {decomposed} '\nfields:\n  - {{key: a, label: Ngày, type: date}}\n"
    )
    assert isinstance(form, FormSpec)
    assert form.title == "Báo cáo chuyên đề"


VALID_FIELD = "  - {key: ngay, label: Ngày, type: date}\n"


@pytest.mark.parametrize(
    ("text", "path", "fragment"),
    [
        ("title: Mẫu\nfields:\n" + VALID_FIELD, "key", "Thiếu mã mẫu"),
        ("key: Mẫu A\ntitle: Mẫu\nfields:\n" + VALID_FIELD, "key", "không hợp lệ"),
        ("key: a\nfields:\n" + VALID_FIELD, "title", "Thiếu tiêu đề"),
        ("key: a\ntitle: '  '\nfields:\n" + VALID_FIELD, "title", "Thiếu tiêu đề"),
        ("key: a\ntitle: [x]\nfields:\n" + VALID_FIELD, "title", "dòng chữ"),
        ("key: a\ntitle: Mẫu\n", "fields", "Thiếu danh sách mục"),
        ("key: a\ntitle: Mẫu\nfields: ngay\n", "fields", "phải là danh sách"),
        ("key: a\ntitle: Mẫu\nfields: []\n", "fields", "ít nhất một mục"),
        ("key: a\ntitle: Mẫu\ntittle: x\nfields:\n" + VALID_FIELD, "tittle", "không được hỗ trợ"),
        ("key: a\ntitle: Mẫu\nfields:\n  - ngay\n", "fields[0]", "key, label và type"),
        ("key: a\ntitle: Mẫu\nfields:\n  - {label: Ngày, type: date}\n", "fields[0].key", "Thiếu mã mục"),
        (
            "key: a\ntitle: Mẫu\nfields:\n  - {key: Ngay, label: Ngày, type: date}\n",
            "fields[0].key",
            "không hợp lệ",
        ),
        ("key: a\ntitle: Mẫu\nfields:\n  - {key: ngay, type: date}\n", "fields[0].label", "Thiếu tên mục"),
        ("key: a\ntitle: Mẫu\nfields:\n  - {key: ngay, label: Ngày}\n", "fields[0].type", "Thiếu kiểu mục"),
        (
            "key: a\ntitle: Mẫu\nfields:\n  - {key: ngay, label: Ngày, type: ngay}\n",
            "fields[0].type",
            "không có",
        ),
        (
            "key: a\ntitle: Mẫu\nfields:\n  - {key: a, label: A, type: date, required: co}\n",
            "fields[0].required",
            "true",
        ),
        (
            "key: a\ntitle: Mẫu\nfields:\n  - {key: a, label: A, type: date, lable: x}\n",
            "fields[0].lable",
            "không được hỗ trợ",
        ),
        (
            "key: a\ntitle: Mẫu\nfields:\n  - {key: a, label: A, type: choice}\n",
            "fields[0].choices",
            "cần danh sách",
        ),
        (
            "key: a\ntitle: Mẫu\nfields:\n  - {key: a, label: A, type: choice, choices: x}\n",
            "fields[0].choices",
            "phải là danh sách",
        ),
        (
            "key: a\ntitle: Mẫu\nfields:\n  - {key: a, label: A, type: choice, choices: [x]}\n",
            "fields[0].choices",
            "ít nhất 2",
        ),
        (
            "key: a\ntitle: Mẫu\nfields:\n  - {key: a, label: A, type: choice, choices: [Có, no]}\n",
            "fields[0].choices[1]",
            "dấu nháy",
        ),
        (
            "key: a\ntitle: Mẫu\nfields:\n  - {key: a, label: A, type: choice, choices: [Có, có]}\n",
            "fields[0].choices[1]",
            "trùng",
        ),
        (
            "key: a\ntitle: Mẫu\nfields:\n  - {key: a, label: A, type: choice, choices: [Có, '2']}\n",
            "fields[0].choices[1]",
            "chữ số",
        ),
        (
            "key: a\ntitle: Mẫu\nfields:\n  - {key: a, label: A, type: text, choices: [x, y]}\n",
            "fields[0].choices",
            "chỉ dùng cho",
        ),
        (
            "key: a\ntitle: Mẫu\nfields:\n  - {key: a, label: A, type: text, min: 1}\n",
            "fields[0].min",
            "chỉ dùng cho",
        ),
        (
            "key: a\ntitle: Mẫu\nfields:\n  - {key: a, label: A, type: number, max_length: 9}\n",
            "fields[0].max_length",
            "chỉ dùng cho",
        ),
        (
            "key: a\ntitle: Mẫu\nfields:\n  - {key: a, label: A, type: number, min: 5, max: 2}\n",
            "fields[0].min",
            "lớn hơn max",
        ),
        (
            "key: a\ntitle: Mẫu\nfields:\n  - {key: a, label: A, type: number, min: -1}\n",
            "fields[0].min",
            "từ 0 trở lên",
        ),
        (
            "key: a\ntitle: Mẫu\nfields:\n  - {key: a, label: A, type: number, max: 1.5}\n",
            "fields[0].max",
            "số nguyên",
        ),
        (
            "key: a\ntitle: Mẫu\nfields:\n  - {key: a, label: A, type: date, min: -99999}\n",
            "fields[0].min",
            "số ngày",
        ),
        (
            "key: a\ntitle: Mẫu\nfields:\n  - {key: a, label: A, type: text, max_length: 0}\n",
            "fields[0].max_length",
            "từ 1 đến",
        ),
        ("key: a\ntitle: Mẫu\nfields:\n  - {key: a, label: A, type: photo}\n", "fields", "không phải ảnh"),
    ],
)
def test_yaml_validation_errors_name_the_path(text: str, path: str, fragment: str) -> None:
    errors = errors_of(text)
    matching = [error for error in errors.errors if error.path == path]
    assert matching, f"no error at {path}: {paths(errors)}"
    assert any(fragment in error.message for error in matching), [error.message for error in matching]


def test_duplicate_field_keys_point_at_the_second_one() -> None:
    errors = errors_of(
        "key: a\ntitle: Mẫu\nfields:\n  - {key: ngay, label: Ngày, type: date}\n"
        "  - {key: ngay, label: Ngày khác, type: dat}\n"
    )
    duplicate = [error for error in errors.errors if error.path == "fields[1].key"]
    assert duplicate
    assert "trùng với fields[0]" in duplicate[0].message
    assert "fields[1].type" in paths(errors)


def test_all_errors_are_reported_at_once_with_lines() -> None:
    text = (
        "key: a\n"
        "title: Mẫu\n"
        "fields:\n"
        "  - key: ngay\n"
        "    label: Ngày\n"
        "    type: dat\n"
        "  - key: hinh_thuc\n"
        "    label: Hình thức\n"
        "    type: choice\n"
    )
    errors = errors_of(text)
    lines = {error.path: error.line for error in errors.errors}
    assert lines == {"fields[0].type": 6, "fields[1].choices": 7}
    rendered = errors.render()
    assert rendered.startswith("Mẫu báo cáo chưa hợp lệ (2 lỗi):")
    assert "fields[0].type (dòng 6)" in rendered


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("key: [a\n", "dòng 2"),
        ("key: a\n  title: b\n bad", "sai cú pháp"),
        ("", "gồm các khóa"),
        ("- a\n- b\n", "gồm các khóa"),
        ("just text", "gồm các khóa"),
        ("a: 1\n---\nb: 2\n", "sai cú pháp"),
        ("x" * 300_000, "quá lớn"),
        ("[" * 5000, "sai cú pháp"),
        ("key: a\x00", "sai cú pháp"),
    ],
)
def test_unreadable_yaml_is_refused(text: str, fragment: str) -> None:
    errors = errors_of(text)
    assert fragment in errors.render()


# --- properties -------------------------------------------------------------------------------------------

WORDS = st.sampled_from(
    ["Ngày", "Số", "đảng viên", "Kết quả", "tọa đàm", "Hội nghị", "tuyên truyền", "ảnh", "Khác"]
)
LABELS = st.lists(WORDS, min_size=1, max_size=4).map(" ".join)


@st.composite
def field_specs(draw: st.DrawFn, key: str) -> FieldSpec:
    kind = draw(st.sampled_from(list(FieldType)))
    low = high = max_length = None
    choices: tuple[str, ...] = ()
    if kind is FieldType.CHOICE:
        choices = tuple(draw(st.lists(LABELS, min_size=2, max_size=6, unique_by=lambda c: c.lower())))
        choices = tuple(dict.fromkeys(choices))
    if kind is FieldType.NUMBER:
        low = draw(st.none() | st.integers(0, 100))
        high = draw(st.none() | st.integers(100, 10**6))
    if kind is FieldType.DATE:
        low = draw(st.none() | st.integers(-3000, 0))
        high = draw(st.none() | st.integers(0, 3000))
    if kind is FieldType.TEXT:
        max_length = draw(st.none() | st.integers(1, 4000))
    return FieldSpec(
        key=key,
        label=draw(LABELS),
        type=kind,
        required=draw(st.booleans()),
        choices=choices,
        min=low,
        max=high,
        max_length=max_length,
        hint=draw(st.none() | LABELS),
        short=draw(st.none() | LABELS),
    )


@st.composite
def forms(draw: st.DrawFn) -> FormSpec:
    count = draw(st.integers(1, 8))
    fields = tuple(draw(field_specs(f"muc_{index}")) for index in range(count))
    if all(spec.type is FieldType.PHOTO for spec in fields):
        fields = (*fields, FieldSpec("ghi_chu", "Ghi chú", FieldType.TEXT))
    return FormSpec(key=draw(st.from_regex(r"\A[a-z][a-z0-9-]{0,20}\Z")), title=draw(LABELS), fields=fields)


@settings(deadline=None)
@given(forms())
def test_valid_forms_round_trip_through_json_and_yaml(form: FormSpec) -> None:
    assert form_from_dict(json.loads(json.dumps(form_to_dict(form)))) == form
    assert load_form_yaml(form_to_yaml(form)) == form


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["key", "title", "fields", "label", "type", "choices", "min", "x"]), children
        )
    ),
    max_leaves=20,
)


@settings(deadline=None)
@given(JSONISH)
def test_any_data_is_validated_without_raising(data: object) -> None:
    result = form_from_dict(data)
    if isinstance(result, FormErrors):
        assert result.errors
        for error in result.errors:
            assert_vietnamese_message(error.message)


@settings(deadline=None)
@given(
    st.text(max_size=300)
    | st.lists(
        st.sampled_from(["key:", " a", "\n", "  - ", "fields:", "[", "{", "&x", "*x", "type: choice"])
    ).map("".join)
)
def test_any_yaml_text_is_loaded_without_raising(text: str) -> None:
    result = load_form_yaml(text)
    assert isinstance(result, FormSpec | FormErrors)
    if isinstance(result, FormErrors):
        assert_vietnamese_message(result.render())
