"""The one matcher of typed directive numbers: exact first, then the same sequence number with the typed parts in
order, and only for a board member's lookup any part of a number."""

from __future__ import annotations

from bot.services.directive_numbers import match_number, segments

NUMBERS = {1: "747-CV/ĐUK", 2: "745-CV/ĐUK", 3: "1747-KH/TU", 4: "747-KH/ĐUK"}


def test_forms_of_one_number_match_it() -> None:
    assert match_number("747-CV/ĐUK", NUMBERS) == [1]
    assert match_number("747 – cv/duk", NUMBERS) == [1]
    assert match_number("747-CV", NUMBERS) == [1]
    assert match_number("0747 CV", NUMBERS) == []  # the parts after the number must be separated as written


def test_a_bare_sequence_number_names_every_directive_that_has_it_and_no_other() -> None:
    assert match_number("747", NUMBERS) == [1, 4]
    assert match_number("745", NUMBERS) == [2]
    assert match_number("47", NUMBERS) == []  # never a piece of "747" in a report or a choice


def test_a_lookup_may_name_any_part_of_a_number() -> None:
    assert match_number("kh/tu", NUMBERS) == []
    assert match_number("kh/tu", NUMBERS, loose=True) == [3]
    assert match_number("747", NUMBERS, loose=True) == [1, 4]  # a closer match wins over a part


def test_segments_ignore_case_diacritics_dashes_and_zeros() -> None:
    assert segments("0747 – CV/ĐUK") == ("747", "cv", "duk")
    assert segments("CV/ĐUK") == ()
