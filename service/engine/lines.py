"""Where things are in a YAML file, and YAML's own errors in plain words.

``read_lines`` reads a file into its document and a ``Lines`` index: the line (from 1) of
every mapping key and list item, by path (``("rules", 3, "when", "age")``). It also reports
what PyYAML would otherwise let pass silently: a key written twice in one mapping (the second
would replace the first) and a bare YAML 1.1 boolean word (``yes``, ``no``, ``on``, ``off``),
which YAML reads as ``true`` or ``false``.

``locate`` gives a line to findings that have none, by the rule (or hazard, or case) they
name and the input or output their message names. It reads a file only when a finding about
it needs a line, so a clean ruleset costs nothing here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final

import yaml

from popcheck.engine.errors import Finding

__all__ = ["BOOL_WORDS", "Lines", "locate", "plain_yaml_error", "read_lines"]

YamlPath = tuple[str | int, ...]

#: The words YAML 1.1 (PyYAML) reads as booleans when they are not in quotes.
BOOL_WORDS: Final = frozenset({"yes", "no", "on", "off", "y", "n"})
_ID_KEYS: Final = ("id", "name", "table")


@dataclass
class Lines:
    """Line numbers of one document's keys and list items, by path."""

    at: dict[YamlPath, int] = field(default_factory=dict)
    #: Each list item's ``id`` (or ``name``): rule ids, hazard ids, golden case names.
    ids: dict[str, YamlPath] = field(default_factory=dict)
    #: Scalars YAML read as a boolean from a word (``yes``), by path, with the word.
    bool_words: dict[YamlPath, str] = field(default_factory=dict)
    #: Keys written twice in one mapping: (path, first line, second line).
    duplicates: list[tuple[YamlPath, int, int]] = field(default_factory=list)

    def of(self, *path: str | int) -> int | None:
        """The line of ``path``, or of the longest part of it that exists."""
        for end in range(len(path), 0, -1):
            line = self.at.get(tuple(path[:end]))
            if line is not None:
                return line
        return None

    def id_at(self, path: YamlPath) -> str | None:
        """The id of the list item that holds ``path`` (its rule, hazard or case)."""
        for item_id, base in self.ids.items():
            if path[: len(base)] == base:
                return item_id
        return None

    def of_id(self, item_id: str, *path: str | int) -> int | None:
        """The line of ``path`` inside the list item whose id is ``item_id``."""
        base = self.ids.get(item_id)
        return None if base is None else self.of(*base, *path)


def _walk(node: yaml.Node, path: YamlPath, lines: Lines) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            line = key_node.start_mark.line + 1
            if key in seen:
                lines.duplicates.append(((*path, key), seen[key], line))
            seen.setdefault(key, line)
            lines.at.setdefault((*path, key), line)
            _walk(value_node, (*path, key), lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines.at[(*path, index)] = item.start_mark.line + 1
            if isinstance(item, yaml.MappingNode):
                for key_node, value_node in item.value:
                    if key_node.value in _ID_KEYS and isinstance(value_node, yaml.ScalarNode):
                        lines.ids.setdefault(str(value_node.value), (*path, index))
                        break
            _walk(item, (*path, index), lines)
    elif isinstance(node, yaml.ScalarNode):
        if node.tag == "tag:yaml.org,2002:bool" and not node.style:
            if node.value.lower() in BOOL_WORDS:
                lines.bool_words[path] = node.value


_PLAIN: Final = (
    ("mapping values are not allowed here", "a text containing a colon must be in quotes"),
    ("found character '\\t'", "tabs cannot indent YAML; use spaces"),
    (
        "could not find expected ':'",
        "a line is missing its ':', or a text in quotes is not closed",
    ),
    ("expected <block end>", "this line is not indented like the lines around it"),
    ("found unexpected end of stream", "a text in quotes is not closed"),
    ("did not find expected key", "this line is not indented like the lines around it"),
    ("found undefined alias", "'*' starts a YAML alias: put the text in quotes"),
    ("found character '@'", "a text starting with '@' or '`' must be in quotes"),
    ("found character '`'", "a text starting with '@' or '`' must be in quotes"),
    ("did not find expected node content", "a '-' or ',' has nothing after it"),
    (
        "expected the node content",
        "this line does not fit the list or mapping around it: a '[' or '{' is not closed, "
        "or a '- ' item is inside [ ]",
    ),
    ("found unhashable key", "a '{' or '[' starts a mapping or a list: put the text in quotes"),
)


def plain_yaml_error(exc: yaml.YAMLError) -> tuple[int | None, str]:
    """The line of a YAML error and what it means, in words an author can act on."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = str(getattr(exc, "problem", None) or str(exc).splitlines()[0])
    line = None if mark is None else mark.line + 1
    for jargon, words in _PLAIN:
        if jargon in problem:
            return line, f"YAML syntax: {words}"
    return line, f"YAML syntax: {problem}"


def read_lines(raw: bytes | str) -> tuple[Any, Lines]:
    """The document in ``raw`` and its ``Lines``. Raises ``yaml.YAMLError``."""
    loader = yaml.SafeLoader(raw)
    try:
        node = loader.get_single_node()
        doc = None if node is None else loader.construct_document(node)
    finally:
        loader.dispose()
    lines = Lines()
    if node is not None:
        _walk(node, (), lines)
    return doc, lines


_NAMED: Final = re.compile(r"^(?:input|tests|output|sets|does not set output) '([^']+)'")


# Catalog findings name their entry: ``recommendation 'cat_cow' ...``, ``reason 'x' ...``.
_ENTRY: Final = re.compile(r"^(\w+) '([^']+)'")
_SECTION_OF: Final = {
    "recommendation": "recommendations",
    "stretch": "recommendations",
    "therapy": "recommendations",
    "referral": "recommendations",
    "precaution": "recommendations",
    "reason": "reasons",
    "warning": "warnings",
    "question": "questions",
}
_INNER: Final = re.compile(r"(dose key|unknown key|dose) '?([a-z_]+)'?")


def _entry_line(message: str, lines: Lines) -> int | None:
    if message.startswith("general"):
        key = re.search(r"'([^']+)'", message)
        return lines.of("general", *([key.group(1)] if key else []))
    entry = _ENTRY.match(message)
    if entry is None:
        return None
    section = _SECTION_OF.get(entry.group(1), entry.group(1))
    if (section,) not in lines.at:
        return None
    inner = _INNER.search(message, entry.end())
    extra: tuple[str, ...] = ()
    if inner is not None:
        extra = ("dose", inner.group(2)) if inner.group(1).startswith("dose") else (inner.group(2),)
    return lines.of(section, entry.group(2), *extra)


def _line(finding: Finding, lines: Lines) -> int | None:
    if finding.rule_id is None and (line := _entry_line(finding.message, lines)) is not None:
        return line
    named = _NAMED.match(finding.message)
    if finding.rule_id is not None:
        if named is None:
            return lines.of_id(finding.rule_id)
        key = "when" if named.group(0).startswith(("input", "tests")) else "then"
        return lines.of_id(finding.rule_id, key, named.group(1))
    if named is not None:
        kind = "inputs" if named.group(0).startswith(("input", "tests")) else "outputs"
        path = lines.ids.get(named.group(1))
        if path is not None and path[0] == kind:
            return lines.at.get(path)
    return None


def locate(
    findings: Iterable[Finding], directory: Path, known: Mapping[str, Lines] | None = None
) -> list[Finding]:
    """``findings``, each with a line when its file can say where (``known`` saves reads)."""
    cache: dict[str, Lines | None] = dict(known or {})
    located: list[Finding] = []
    for finding in findings:
        if finding.line is None:
            if finding.file not in cache:
                try:
                    cache[finding.file] = read_lines((directory / finding.file).read_bytes())[1]
                except (OSError, yaml.YAMLError):
                    cache[finding.file] = None
            lines = cache[finding.file]
            if lines is not None:
                finding = replace(finding, line=_line(finding, lines))
        located.append(finding)
    return located
