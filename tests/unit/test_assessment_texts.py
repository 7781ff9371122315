"""How ``popcheck.assessment.texts`` prepares catalog texts once and fills them in per request.

The shipped catalog quotes only answers and one chained count, so the rarer paths (a table
output shadowing another, a result that is not a single value) are pinned here directly.
"""

from __future__ import annotations

from typing import Any

import pytest

from popcheck.assessment.texts import Text, sentences, show
from popcheck.engine import TableResult

FACTS: dict[str, Any] = {"age": 52.0, "muscles.tight": ["lower_back", "hips"], "onset": None}


def _result(name: str, value: Any) -> TableResult:
    return TableResult(name, (), (), value)


def test_a_text_without_placeholders_is_rendered_once() -> None:
    text = Text.parse("  Braces {{like this}} stay.\n", {})
    assert text.fixed == "Braces {like this} stay."
    assert text.render({}, {}) == "Braces {like this} stay."


def test_answers_read_as_words() -> None:
    fill = Text.parse("At {age}, {muscles.tight} feel tight; onset {onset}.", {})
    assert fill.fixed is None
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
    fill = Text.parse("{t.item}", {"t.item": ("later", "earlier")})
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
    template = Text.parse(text, {})
    pieces = [piece.render(FACTS, {}) for piece in template.sentences()]
    assert pieces == sentences(template.render(FACTS, {}))


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (7, "7"),
        (7.0, "7"),
        (7.5, "7.5"),
        (1e-7, "1e-07"),
        (True, "True"),
        (None, "(not answered)"),
        ("sudden", "sudden"),
        (["lower_back", "hips", "core"], "lower back, hips and core"),
        ([], ""),
        (("hips",), "hips"),
    ],
)
def test_answers_shown_as_a_person_reads_them(value: Any, shown: str) -> None:
    assert show(value) == shown
    assert Text.parse("You said {pain.level}.", {}).render({"pain.level": value}, {}) == (
        f"You said {shown}."
    )
