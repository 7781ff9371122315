"""Read ``examples/`` and the documents that quote it (openapi.yaml, the READMEs).

Shared by the examples test and the browser test, which both need "the examples, in the
order the docs page shows them, with what each must produce".
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES_DIR = ROOT / "examples"
OPENAPI = ROOT / "openapi.yaml"
README = ROOT / "README.md"
EXPECT_KEYS = {
    "summary",
    "note",
    "urgency",
    "red_flags",
    "causes",
    "recommendations",
    "not_recommended",
}


@dataclass(frozen=True)
class Example:
    """One persona: the request file and what the service must answer."""

    name: str
    request: dict[str, Any]
    expect: dict[str, Any]


def example_names() -> list[str]:
    """Every ``examples/*.json`` stem, sorted (test ids; the docs order comes from openapi)."""
    return sorted(path.stem for path in EXAMPLES_DIR.glob("*.json"))


def load_example(name: str) -> Example:
    """The request and its expectation file."""
    request = json.loads((EXAMPLES_DIR / f"{name}.json").read_text(encoding="utf-8"))
    expect = yaml.safe_load((EXAMPLES_DIR / f"{name}.expect.yaml").read_text(encoding="utf-8"))
    return Example(name=name, request=request, expect=expect)


def openapi_examples() -> dict[str, Any]:
    """The named request examples of ``POST /assess`` in ``openapi.yaml``, in file order."""
    spec = yaml.safe_load(OPENAPI.read_text(encoding="utf-8"))
    media = spec["paths"]["/assess"]["post"]["requestBody"]["content"]["application/json"]
    examples: dict[str, Any] = media["examples"]
    return examples


def expectation_problems(body: Mapping[str, Any], expect: Mapping[str, Any]) -> list[str]:
    """Every way ``body`` (an Assessment) misses ``expect``; empty when it meets it."""
    problems: list[str] = []
    level = body["urgency"]["level"]
    if level != expect["urgency"]:
        problems.append(f"urgency is {level!r}, expected {expect['urgency']!r}")

    flags = [flag["id"] for flag in body["red_flags"]]
    if not expect["red_flags"] and flags:
        problems.append(f"expected no red flags, got {flags}")
    problems += [
        f"red flag {f!r} missing from {flags}" for f in expect["red_flags"] if f not in flags
    ]

    causes = [cause["id"] for cause in body["causes"]]
    problems += [f"cause {c!r} missing from {causes}" for c in expect["causes"] if c not in causes]
    if expect["causes"] and causes and causes[0] != expect["causes"][0]:
        problems.append(f"most likely cause is {causes[0]!r}, expected {expect['causes'][0]!r}")

    recommended = [item["id"] for item in body["recommendations"]]
    problems += [
        f"recommendation {r!r} missing from {recommended}"
        for r in expect["recommendations"]
        if r not in recommended
    ]
    problems += [
        f"{r!r} must not be recommended (got {recommended})"
        for r in expect["not_recommended"]
        if r in recommended
    ]
    return problems


# README curl commands ---------------------------------------------------------------------


@dataclass(frozen=True)
class CurlExample:
    """One ``$ curl ... [| jq FILTER]`` line of a README, with the output shown under it."""

    line: str
    method: str
    path: str
    headers: dict[str, str]
    body_file: str | None
    body_inline: str | None
    jq_filter: str | None
    shown_output: list[str]


_BLOCK = re.compile(r"^```(?:console|shell-session)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def readme_curl_examples(text: str) -> Iterator[CurlExample]:
    """The ``$ curl`` commands in ``console`` code blocks, each with the lines printed below it."""
    for block in _BLOCK.finditer(text):
        lines = block.group(1).splitlines()
        for index, line in enumerate(lines):
            if not line.startswith("$ curl "):
                continue
            output: list[str] = []
            for following in lines[index + 1 :]:
                if following.startswith("$ "):
                    break
                output.append(following)
            yield parse_curl(line, output)


def parse_curl(line: str, output: list[str]) -> CurlExample:
    """Understand the curl options the README uses; anything else is an error, not ignored."""
    command, _, pipe = line[2:].partition(" | ")
    words = shlex.split(command)
    method = "GET"
    headers: dict[str, str] = {}
    body_file = body_inline = url = None
    words_iter = iter(words[1:])
    for word in words_iter:
        if word in {"-s", "--silent", "-S", "--show-error", "-f", "--fail"}:
            continue
        if word in {"-X", "--request"}:
            method = next(words_iter)
        elif word in {"-H", "--header"}:
            name, _, value = next(words_iter).partition(":")
            headers[name.strip()] = value.strip()
        elif word in {"-d", "--data", "--data-binary"}:
            data = next(words_iter)
            if data.startswith("@"):
                body_file = data[1:]
            else:
                body_inline = data
            if method == "GET":
                method = "POST"
        elif word.startswith("http://") or word.startswith("https://"):
            url = word
        else:
            raise ValueError(f"curl option {word!r} is not understood by this test: {line}")
    if url is None:
        raise ValueError(f"no URL in {line}")
    path = "/" + url.split("://", 1)[1].partition("/")[2]
    jq_filter = None
    if pipe:
        jq_words = shlex.split(pipe)
        if jq_words[0] != "jq" or len(jq_words) != 2:
            raise ValueError(f"only '| jq FILTER' is understood: {line}")
        jq_filter = jq_words[1]
    return CurlExample(
        line=line,
        method=method,
        path=path,
        headers=headers,
        body_file=body_file,
        body_inline=body_inline,
        jq_filter=jq_filter,
        shown_output=output,
    )


def jq_lines(document: Any, jq_filter: str) -> list[str]:
    """What ``jq FILTER`` prints for the path filters the README uses (``.a.b``, ``.a[].b``,
    ``.a[0].b``, ``.a | length``)."""
    path, _, function = (part.strip() for part in jq_filter.partition("|"))
    values = [document]
    for step in re.findall(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d*)\]", path):
        key, index = step
        if key:
            values = [value[key] for value in values]
        elif index:
            values = [value[int(index)] for value in values]
        else:
            values = [item for value in values for item in value]
    if function == "length":
        values = [len(value) for value in values]
    elif function:
        raise ValueError(f"jq function {function!r} is not understood by this test")
    return [json.dumps(value, indent=2, ensure_ascii=False) for value in values]
