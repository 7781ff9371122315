"""How ``service.assessment`` prepares catalog texts once and fills them in per request.

The shipped catalog quotes only answers and one chained count, so the rarer paths (a table
output shadowing another, a result that is not a single value) are pinned here directly.
"""

from __future__ import annotations

from typing import Any

import pytest

from service.assessment import _Fill, _sentence_texts, _sentences, _Template
from service.engine import TableResult

FACTS: dict[str, Any] = {"age": 52.0, "muscles.tight": ["lower_back", "hips"], "onset": None}


def _result(name: str, value: Any) -> TableResult:
    return TableResult(name, (), (), value)


def test_a_text_without_placeholders_is_rendered_once() -> None:
    text = _Template.parse("  Braces {{like this}} stay.\n").bind({})
    assert text == "Braces {like this} stay."


def test_answers_read_as_words() -> None:
    fill = _Template.parse("At {age}, {muscles.tight} feel tight; onset {onset}.").bind({})
    assert isinstance(fill, _Fill)
    assert fill.render(FACTS, {}) == (
        "At 52, lower back and hips feel tight; onset (not answered)."
    )


@pytest.mark.parametrize(
    ("later", "earlier", "shown"),
    [
        (4, 2, "4"),  # the later table's single value wins
        ([{"item": 1}], 2, "2"),  # a list is not a single value: the earlier table's shows
        (True, "two", "two"),  # nor is a bool
        (None, None, "61"),  # no table gives a single value: the answer
    ],
)
def test_a_table_output_placeholder_reads_the_latest_single_value(
    later: Any, earlier: Any, shown: str
) -> None:
    fill = _Template.parse("{t.item}").bind({"t.item": ("later", "earlier")})
    assert isinstance(fill, _Fill)
    results = {"earlier": _result("earlier", earlier), "later": _result("later", later)}
    assert fill.render({"t.item": 61}, results) == shown


@pytest.mark.parametrize(
    "text",
    [
        "You are {age}, and this came on slowly.",
        "You sit {age} hours a day. You can bend. Stretch {muscles.tight}",
        "{age}. {onset}. {muscles.tight}.",
        "A.. {age} {{b}}. c. {onset}",
        ". {age}. ",
        "{age}{onset}. Done",
        "No answer quoted. Two sentences.",
    ],
)
def test_a_reason_split_at_load_reads_as_the_rendered_text_split(text: str) -> None:
    """Cause reasons are split into sentences on the template, once; rendering each piece
    must give what rendering the whole and splitting it gave."""
    template = _Template.parse(text).bind({})
    whole = template if isinstance(template, str) else template.render(FACTS, {})
    pieces = [
        piece if isinstance(piece, str) else piece.render(FACTS, {})
        for piece in _sentence_texts(template)
    ]
    assert pieces == _sentences(whole)


@pytest.mark.parametrize(
    "value",
    [7, 0, 7.0, 7.5, 1e-7, True, False, None, "sudden", ["lower_back", "hips"], [], ("hips",)],
)
def test_a_text_quoting_one_answer_renders_as_the_general_loop(value: Any) -> None:
    """Most texts quote one answer and take a shorter path; it must read the same."""
    fill = _Template.parse("You said {pain.level}, twice.").bind({})
    assert isinstance(fill, _Fill)
    assert fill.one is not None
    general = _Fill(fill.parts)
    object.__setattr__(general, "one", None)  # force the general loop
    facts = {"pain.level": value}
    assert fill.render(facts, {}) == general.render(facts, {})


def test_a_text_quoting_a_table_output_keeps_the_general_path() -> None:
    fill = _Template.parse("{t.item} of 5.").bind({"t.item": ("t",)})
    assert isinstance(fill, _Fill)
    assert fill.one is None
    assert fill.render({"t.item": 1}, {"t": _result("t", 4)}) == "4 of 5."
