"""Catalog texts: parsed once at load, filled in with the person's answers per request.

A catalog text may quote answers (``You are {age}``) or the single value of an earlier table
(``{asas_items.item}``). ``Text.parse`` splits it into literal pieces and placeholders once,
so a request only looks values up and joins strings; a text that quotes nothing is joined at
load and handed out as it is.
"""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from popcheck.engine import TableResult

__all__ = ["DOSE_KEYS", "Part", "Text", "dose_detail", "dose_text", "sentences", "show"]

DOSE_KEYS: tuple[str, ...] = (
    "reps",
    "hold_seconds",
    "sets",
    "times_per_day",
    "minutes",
    "days_per_week",
)
"""The parts of a catalog ``dose`` (each a whole number of at least 1), in the order of the
response's ``dose_detail``; ``checks`` refuses any other key at load."""

_FORMATTER = string.Formatter()

#: One piece of a text: the literal before a placeholder, the fact it names (``None`` for
#: the closing literal) and the tables whose single value that name may stand for (latest
#: first: a later table's output shadows an earlier one's, as in chained facts).
Part = tuple[str, str | None, tuple[str, ...]]


@dataclass(frozen=True, slots=True)
class Text:
    """A catalog text for one use: its parts, and the whole text when it quotes nothing."""

    parts: tuple[Part, ...]
    fixed: str | None = field(init=False)

    def __post_init__(self) -> None:
        quotes = any(name for _literal, name, _tables in self.parts)
        joined = None if quotes else "".join(literal for literal, _name, _tables in self.parts)
        object.__setattr__(self, "fixed", joined)

    @classmethod
    def parse(cls, text: str, sources: Mapping[str, tuple[str, ...]]) -> Text:
        """Split ``text`` at its ``{placeholders}``; ``sources`` maps ``table.output`` names
        to the tables that produce them, latest first."""
        return cls(
            tuple(
                (literal, name, sources.get(name, ()) if name else ())
                for literal, name, _spec, _conv in _FORMATTER.parse(text.strip())
            )
        )

    @classmethod
    def plain(cls, text: str) -> Text:
        """A text shown exactly as given (no placeholders are read)."""
        return cls(((text, None, ()),))

    @property
    def fields(self) -> tuple[str, ...]:
        """The names the text quotes, in order."""
        return tuple(name for _literal, name, _tables in self.parts if name)

    def render(self, facts: Mapping[str, Any], results: Mapping[str, TableResult]) -> str:
        """The text with this request's answers in it."""
        if self.fixed is not None:
            return self.fixed
        out: list[str] = []
        for literal, name, tables in self.parts:
            out.append(literal)
            if name:
                out.append(show(_value(name, tables, facts, results)))
        return "".join(out)

    def sentences(self) -> tuple[Text, ...]:
        """The text split after each full stop, worked out on the parts: answers never
        contain ". " nor end with a dot (numbers, words, lists of words), so every break is
        in the literal text and each piece renders as the rendered text's sentence would."""
        pieces: list[Text] = []
        current: list[Part] = []
        for literal, name, tables in _literals_before_names(self.parts):
            *ends, rest = literal.split(". ")
            for end in ends:
                current.append((end if end.endswith(".") else f"{end}.", None, ()))
                pieces.append(Text(tuple(current)))
                current = []
            current.append((rest, name, tables))
        pieces.append(Text(tuple(current)))
        return tuple(pieces)


def _literals_before_names(parts: Sequence[Part]) -> list[Part]:
    """``parts`` with literal-only parts joined to the next part's literal."""
    merged: list[Part] = []
    pending = ""
    for literal, name, tables in parts:
        if name:
            merged.append((pending + literal, name, tables))
            pending = ""
        else:
            pending += literal
    merged.append((pending, None, ()))
    return merged


def _value(
    name: str,
    tables: tuple[str, ...],
    facts: Mapping[str, Any],
    results: Mapping[str, TableResult],
) -> Any:
    """A chained table's result when ``name`` is one of its outputs and the result is a
    single number or word (the latest such table wins), else the person's answer."""
    for table in tables:
        result = results.get(table)
        if result is not None:
            value = result.value
            if isinstance(value, int | float | str) and not isinstance(value, bool):
                return value
    return facts.get(name)


def sentences(text: str) -> list[str]:
    """A rendered text split after each full stop (the catalog's texts are plain sentences;
    none holds an abbreviation with a dot)."""
    parts = text.split(". ")
    if len(parts) == 1:
        return parts
    return [part if part.endswith(".") else f"{part}." for part in parts[:-1]] + parts[-1:]


def show(value: Any) -> str:
    """A fact value as a person reads it: ``7`` not ``7.0``; never ``None``."""
    if value is None:
        return "(not answered)"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:g}"
    if isinstance(value, list | tuple):
        # ["lower_back", "hips"] -> "lower back and hips"
        words = [str(item).replace("_", " ") for item in value]
        return " and ".join(filter(None, [", ".join(words[:-1]), *words[-1:]]))
    return str(value)


def dose_text(dose: Mapping[str, Any] | None) -> str | None:
    """``{reps: 10, hold_seconds: 3, times_per_day: 2}`` -> "10 times, hold each for ..."."""
    if not dose:
        return None
    parts: list[str] = []
    if sets := dose.get("sets"):
        parts.append("1 set" if sets == 1 else f"{sets} sets")
    if reps := dose.get("reps"):
        parts.append(f"{reps} times")
    if hold := dose.get("hold_seconds"):
        parts.append(f"hold each for {hold} seconds")
    if minutes := dose.get("minutes"):
        parts.append(f"{minutes} minutes")
    if per_day := dose.get("times_per_day"):
        parts.append({1: "once a day", 2: "twice a day"}.get(per_day, f"{per_day} times a day"))
    if days := dose.get("days_per_week"):
        parts.append("every day" if days == 7 else f"on {days} days a week")
    return ", ".join(parts).capitalize() if parts else None


def dose_detail(dose: Mapping[str, Any] | None) -> dict[str, int | None] | None:
    """A catalog ``dose`` as the response's ``dose_detail``: every key of ``DOSE_KEYS``, ``None``
    where the dose does not say; ``None`` for no dose at all."""
    if not dose:
        return None
    return {key: dose.get(key) for key in DOSE_KEYS}
