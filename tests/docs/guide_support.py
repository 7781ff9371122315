"""Follow a Markdown walkthrough literally: apply its ``diff`` blocks, run its ``$`` commands
and compare what they print with what the page shows.

The page stays readable for people (ordinary unified-diff and console blocks) and cannot drift:
a step whose edit no longer applies, or whose output changed, fails the test that follows it.

- A ``diff`` block names its file in the ``+++`` header. Lines starting with a space are
  context, ``-`` lines are removed and ``+`` lines added. Context plus removed lines must occur
  exactly once in the file; they are replaced by context plus added lines.
- A ``console`` block holds ``$ command`` lines, each followed by the output it shows. Every
  shown line must appear, in order, in what the command prints (other lines may come between);
  ``...`` inside a shown line stands for any text. A command must exit 0, unless it ends with
  a comment ``# exit status N``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

_FENCE = re.compile(r"^```([a-z-]*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
_EXIT = re.compile(r"#\s*exit status (\d+)\s*$")


@dataclass(frozen=True)
class Edit:
    """One ``diff`` block."""

    path: str
    old: str
    new: str


@dataclass(frozen=True)
class Command:
    """One ``$`` line of a ``console`` block and the output shown under it."""

    command: str
    shown: tuple[str, ...]
    exit_status: int


Step = Edit | Command


def section(markdown: str, heading: str) -> str:
    """The text under ``heading`` (a ``## `` line), up to the next heading of that level."""
    match = re.search(rf"^## {re.escape(heading)}\s*$", markdown, flags=re.MULTILINE)
    if match is None:
        raise LookupError(f"no '## {heading}' section")
    rest = markdown[match.end() :]
    end = re.search(r"^## ", rest, flags=re.MULTILINE)
    return rest if end is None else rest[: end.start()]


def steps(markdown: str) -> Iterator[Step]:
    """The edits and commands of ``markdown``, in page order."""
    for fence in _FENCE.finditer(markdown):
        language, body = fence.group(1), fence.group(2)
        if language == "diff":
            yield parse_diff(body)
        elif language == "console":
            yield from parse_console(body)


def parse_diff(body: str) -> Edit:
    """A one-hunk unified diff without line numbers."""
    lines = body.splitlines()
    headers = [line for line in lines if line.startswith("+++ ")]
    if len(headers) != 1:
        raise ValueError("a diff block needs exactly one '+++ path' header")
    path = headers[0][4:].strip()
    old: list[str] = []
    new: list[str] = []
    for line in lines:
        if line.startswith(("--- ", "+++ ", "@@")):
            continue
        marker, text = line[:1], line[1:]
        if marker in (" ", ""):
            old.append(text)
            new.append(text)
        elif marker == "-":
            old.append(text)
        elif marker == "+":
            new.append(text)
        else:
            raise ValueError(f"not a diff line: {line!r}")
    return Edit(path=path, old="\n".join(old) + "\n", new="\n".join(new) + "\n")


def parse_console(body: str) -> Iterator[Command]:
    """``$ command`` lines and the output lines under each."""
    command: str | None = None
    shown: list[str] = []
    for line in body.splitlines():
        if line.startswith("$ "):
            if command is not None:
                yield _command(command, shown)
            command, shown = line[2:], []
        elif command is not None:
            shown.append(line)
    if command is not None:
        yield _command(command, shown)


def _command(text: str, shown: list[str]) -> Command:
    status = _EXIT.search(text)
    return Command(
        command=text,
        shown=tuple(line for line in shown if line.strip()),
        exit_status=int(status.group(1)) if status else 0,
    )


def apply_edit(root: Path, edit: Edit) -> None:
    """Apply ``edit`` under ``root``; a block that does not match exactly once is an error."""
    target = root / edit.path
    text = target.read_text(encoding="utf-8") if target.exists() else ""
    if edit.old.strip():
        count = text.count(edit.old)
        if count != 1:
            raise AssertionError(
                f"{edit.path}: the diff's context and '-' lines occur {count} times, not once"
            )
        text = text.replace(edit.old, edit.new, 1)
    else:
        # Only '+' lines: a new file, or lines added at its end.
        text += edit.new
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")


def unmatched_lines(shown: tuple[str, ...], printed: str) -> list[str]:
    """The shown lines that do not appear, in order, in ``printed`` (empty when all do)."""
    actual = [line.rstrip() for line in printed.splitlines()]
    position = 0
    missing: list[str] = []
    for line in shown:
        pattern = re.compile(
            ".*".join(re.escape(part) for part in line.rstrip().split("...")) + r"\Z"
        )
        for index in range(position, len(actual)):
            if pattern.match(actual[index]):
                position = index + 1
                break
        else:
            missing.append(line)
    return missing


def rewind_edit(root: Path, edit: Edit) -> bool:
    """Undo ``edit`` under ``root`` when it was already made (its result is in the file and
    its starting text is not): an author who followed the guide on the real rules keeps a
    guide that still applies. True when something was undone."""
    target = root / edit.path
    if not target.exists() or edit.new == edit.old:
        return False
    text = target.read_text(encoding="utf-8")
    if edit.old.strip():
        # Made: its result is there once, and its starting text nowhere else (an edit that
        # only adds lines keeps its context inside its result).
        if text.count(edit.new) != 1 or text.replace(edit.new, "").count(edit.old) != 0:
            return False
        text = text.replace(edit.new, edit.old, 1)
    elif text.endswith(edit.new):
        text = text[: len(text) - len(edit.new)]
    else:
        return False
    target.write_text(text, encoding="utf-8")
    return True


_VERSION = re.compile(r"^version: *(\S+) *$", re.MULTILINE)


def starting_version(edits: list[Edit], ruleset_path: str) -> str | None:
    """The version the guide's version bump starts from (its ``-version:`` line)."""
    for edit in edits:
        if edit.path == ruleset_path and (match := _VERSION.search(edit.old)):
            new = _VERSION.search(edit.new)
            if new is not None and new.group(1) != match.group(1):
                return match.group(1)
    return None


def set_version(path: Path, version: str) -> None:
    """Set ``version:`` in a ruleset.yaml to ``version``."""
    text = path.read_text(encoding="utf-8")
    path.write_text(_VERSION.sub(f"version: {version}", text, count=1), encoding="utf-8")
