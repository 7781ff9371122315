"""The hostile-input corpus: requests a careless or hostile caller sends, each with the exact
status and problem document it must get.

One corpus, two transports: ``test_corpus.py`` sends it through the Flask test client and
``test_gunicorn.py`` over a socket to a real gunicorn worker, so a difference between the two
(a proxy-ish header, a body gunicorn reads differently) shows up as a failure.

Where a case can be derived from ``openapi.yaml`` it is (every field with every wrong JSON
type, every number field with every odd number), so a field added to the spec is fuzzed here
without anyone editing this file. The messages are marshmallow's, as the contract's 422
``errors`` map shows them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from werkzeug.http import HTTP_STATUS_CODES

REPO = Path(__file__).resolve().parents[2]
SPEC: dict[str, Any] = yaml.safe_load((REPO / "openapi.yaml").read_text(encoding="utf-8"))

JSON = "application/json"
PROBLEM_JSON = "application/problem+json"
VALIDATION_DETAIL = "The request body is well-formed JSON but fails validation; see errors."
NOT_JSON = "The body is not valid JSON: "
NOT_UTF8 = "The body is not valid UTF-8."
NOT_OBJECT = "The body must be a JSON object."
TOO_DEEP = "The body is nested too deeply to be a request."
UNSUPPORTED = (
    "Send the body as JSON with 'Content-Type: application/json', or a FHIR "
    "QuestionnaireResponse with 'Content-Type: application/fhir+json'."
)
NOT_ALLOWED = "The method is not allowed for the requested URL."
DEFAULT_LIMIT = 65_536
TOO_LARGE = f"The body is larger than the limit of {DEFAULT_LIMIT} bytes."

# A request that uses every JSON value type (object, array, string, integer, float, true,
# false, null) at two levels: its prefixes are truncations of every kind of token.
FULL_REQUEST = (
    '{"age":40,"onset":"sudden","pain":{"level":3,"radiates_to_leg":true,"below_knee":null,'
    '"worse_at_night":false},"muscles":{"tight":["hips","core"]},'
    '"lifestyle":{"sitting_hours_per_day":7.5}}'
)


@dataclass(frozen=True)
class Hostile:
    """One request and its expected answer.

    ``status`` 200 means "assessed normally"; any other status must come with exactly the
    problem document ``problem()`` builds (``detail``, plus ``errors`` for 422).
    """

    id: str
    body: bytes = b""
    status: int = 400
    detail: str | None = None
    errors: Mapping[str, list[str]] | None = None
    method: str = "POST"
    path: str = "/assess"
    content_type: str | None = JSON
    headers: Mapping[str, str] = field(default_factory=dict)

    def problem(self) -> dict[str, Any]:
        """The whole RFC 9457 document this request must get."""
        document: dict[str, Any] = {
            "type": "about:blank",
            "title": HTTP_STATUS_CODES[self.status],
            "status": self.status,
            "detail": self.detail,
        }
        if self.errors is not None:
            document["errors"] = {path: list(messages) for path, messages in self.errors.items()}
        return document


def _invalid(id: str, document: Any, errors: Mapping[str, list[str]]) -> Hostile:
    return Hostile(id, _dumps(document), status=422, detail=VALIDATION_DETAIL, errors=dict(errors))


def _dumps(document: Any) -> bytes:
    return json.dumps(document, separators=(",", ":")).encode()


def _decoder_detail(text: str) -> str:
    """What the service says about ``text``: the stdlib decoder's message and position."""
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        return f"{NOT_JSON}{exc.msg} (line {exc.lineno}, column {exc.colno})."
    raise AssertionError(f"{text!r} is valid JSON")


# --- the spec, walked ------------------------------------------------------------------


@dataclass(frozen=True)
class Leaf:
    """One request field as ``openapi.yaml`` declares it."""

    path: tuple[str, ...]
    kind: str  # "integer", "number", "boolean", "enum", "array", "object"
    nullable: bool
    minimum: float | None = None
    maximum: float | None = None

    @property
    def dotted(self) -> str:
        return ".".join(self.path)


def _resolve(schema: Mapping[str, Any]) -> Mapping[str, Any]:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    node: Any = SPEC
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return _resolve(node)


def _types(schema: Mapping[str, Any]) -> list[str]:
    declared = schema.get("type", [])
    return [declared] if isinstance(declared, str) else list(declared)


def request_fields(
    schema: Mapping[str, Any] | None = None, prefix: tuple[str, ...] = ()
) -> Iterator[Leaf]:
    """Every field of ``AssessmentRequest``, objects included, depth first."""
    node = _resolve(schema or SPEC["components"]["schemas"]["AssessmentRequest"])
    required = set(node.get("required", ()))
    for name, raw in node["properties"].items():
        path = (*prefix, name)
        nullable = name not in required
        variants = [_resolve(option) for option in raw.get("oneOf", [raw])]
        objects = [v for v in variants if "properties" in v]
        if objects:
            yield Leaf(path, "object", nullable)
            yield from request_fields(objects[0], path)
            continue
        # A nullable enum is oneOf its component and {type: 'null'}; the rest carry 'null'
        # in their type list.
        nullable = nullable and any("null" in _types(v) for v in variants)
        (value,) = [v for v in variants if _types(v) != ["null"]]
        (kind,) = [t for t in _types(value) if t != "null"]
        if kind == "string" and "enum" in value:
            kind = "enum"
        yield Leaf(path, kind, nullable, value.get("minimum"), value.get("maximum"))


def with_value(path: tuple[str, ...], value: Any) -> dict[str, Any]:
    """A valid minimal request (``age`` 40) with ``value`` placed at ``path``."""
    document: dict[str, Any] = {"age": 40}
    node = document
    for part in path[:-1]:
        node = node.setdefault(part, {})
    node[path[-1]] = value
    return document


# The JSON types each kind refuses, and marshmallow's message for them.
_WRONG_VALUES: dict[str, tuple[list[Any], str]] = {
    "integer": (["7", True, False, 2.5, [], {}], "Not a valid integer."),
    "number": (["7", True, [], {}], "Not a valid number."),
    "boolean": ([1, 0, "true", "", [], {}], "Not a valid boolean."),
    "enum": ([1, True, [], {}], "Not a valid string."),
    "array": (["hips", 1, True, {}], "Not a valid list."),
    "object": ([5, "pain", True, [], [{}]], "Invalid input type."),
}


def wrong_types() -> Iterator[Hostile]:
    """Every field with every JSON type it does not accept; ``null`` where it is required;
    an array item of the wrong type."""
    for leaf in request_fields():
        values, message = _WRONG_VALUES[leaf.kind]
        for value in values:
            yield _invalid(
                f"type-{leaf.dotted}-{json.dumps(value)}",
                with_value(leaf.path, value),
                {leaf.dotted: [message]},
            )
        if not leaf.nullable:
            yield _invalid(
                f"type-{leaf.dotted}-null",
                with_value(leaf.path, None),
                {leaf.dotted: ["Field may not be null."]},
            )
        if leaf.kind == "array":
            for item in (1, True, None, ["hips"]):
                message = "Field may not be null." if item is None else "Not a valid string."
                yield _invalid(
                    f"type-{leaf.dotted}-item-{json.dumps(item)}",
                    with_value(leaf.path, ["hips", item]),
                    {f"{leaf.dotted}.1": [message]},
                )


def _range_message(leaf: Leaf) -> str:
    def show(bound: float | None) -> str:
        return f"{bound:g}" if isinstance(bound, float) else str(bound)

    return (
        f"Must be greater than or equal to {show(leaf.minimum)} and less than or equal to "
        f"{show(leaf.maximum)}."
    )


_PLACEHOLDER = "__VALUE__"


def odd_numbers() -> Iterator[Hostile]:
    """``1e309`` (infinite as a float), ``NaN``, ``-0``, ``1e-400`` (underflows to 0) and 2^64
    in every number field, written as raw JSON text so nothing is normalised on the way."""
    for leaf in request_fields():
        if leaf.kind not in ("integer", "number"):
            continue
        invalid = "Not a valid integer." if leaf.kind == "integer" else "Not a valid number."
        zero_fits = (leaf.minimum or 0) <= 0 <= (leaf.maximum if leaf.maximum is not None else 0)
        template = json.dumps(with_value(leaf.path, _PLACEHOLDER), separators=(",", ":"))

        def text(raw: str, template: str = template) -> bytes:
            return template.replace(json.dumps(_PLACEHOLDER), raw).encode()

        name = leaf.dotted
        for raw in ("1e309", "-1e309", "1E400"):
            yield Hostile(
                f"number-{name}-{raw}",
                text(raw),
                422,
                VALIDATION_DETAIL,
                {name: [invalid]},
            )
        for raw in ("NaN", "Infinity", "-Infinity"):
            yield Hostile(
                f"number-{name}-{raw}", text(raw), 400, f"{NOT_JSON}{raw} is not a JSON number."
            )
        for raw in (str(2**64), str(-(2**64)), "1.7976931348623157e308"):
            yield Hostile(
                f"number-{name}-{raw}",
                text(raw),
                422,
                VALIDATION_DETAIL,
                {name: [_range_message(leaf)]},
            )
        for raw in ("-0", "-0.0", "0e5", "1e-400"):
            if zero_fits:
                yield Hostile(f"number-{name}-{raw}", text(raw), 200)
            else:
                yield Hostile(
                    f"number-{name}-{raw}",
                    text(raw),
                    422,
                    VALIDATION_DETAIL,
                    {name: [_range_message(leaf)]},
                )


def truncations() -> Iterator[Hostile]:
    """Every proper prefix of a request that uses every JSON token type."""
    for end in range(1, len(FULL_REQUEST)):
        prefix = FULL_REQUEST[:end]
        yield Hostile(f"truncated-{end}", prefix.encode(), 400, _decoder_detail(prefix))
    # Cut inside a multi-byte character: the bytes are no longer UTF-8 at all.
    cut = '{"age":40,"onset":"é'.encode()[:-1]
    yield Hostile("truncated-mid-character", cut, 400, NOT_UTF8)


_MALFORMED = [
    '{"age":40} x',
    '{"age":40}{"age":40}',
    '{"age":40,}',
    "{age:40}",
    '{"age":040}',
    '{"age":+40}',
    '{"age":.5}',
    '{"age":0x28}',
    '{"age":40 /* comment */}',
    '// comment\n{"age":40}',
    '{"age":"\\q"}',
    '{"age":"\\u12"}',
    '{"age":"tab\there"}',
    '{"age":40]',
    "\u00a0{}",
    '{"age":True}',
]


def malformed() -> Iterator[Hostile]:
    """JSON look-alikes that are not JSON."""
    for index, text in enumerate(_MALFORMED):
        yield Hostile(f"malformed-{index}", text.encode(), 400, _decoder_detail(text))
    yield Hostile("malformed-nul-only", b"\x00" * 16, 400, _decoder_detail("\x00" * 16))


def not_objects() -> Iterator[Hostile]:
    """Valid JSON whose top level is not an object (the status table has array/number/null)."""
    for text in ("true", "false", '""', "[[]]", "1e309", "-0", json.dumps('{"age":40}')):
        yield Hostile(f"not-object-{text}", text.encode(), 400, NOT_OBJECT)


def deep_nesting() -> Iterator[Hostile]:
    """10,000 levels deep in every position: a refusal, never a crash or a slow worker."""
    depth = 10_000
    arrays = "[" * depth + "]" * depth
    objects = '{"a":' * depth + "1" + "}" * depth
    for name, deep in (("arrays", arrays), ("objects", objects)):
        for where, text in (
            ("top", deep),
            ("in-known-field", '{"age":40,"pain":' + deep + "}"),
            ("in-unknown-field", '{"age":40,"extra":' + deep + "}"),
            ("in-list", '{"age":40,"muscles":{"tight":' + deep + "}}"),
        ):
            yield Hostile(f"deep-{name}-{where}", text.encode(), 400, TOO_DEEP)
    # Deep but within the parser's reach: a normal validation answer naming the field.
    shallow = '{"a":' * 100 + "1" + "}" * 100
    yield Hostile(
        "deep-100-unknown",
        ('{"age":40,"extra":' + shallow + "}").encode(),
        422,
        VALIDATION_DETAIL,
        {"extra": ["Unknown field."]},
    )
    yield Hostile(
        "deep-100-in-object-field",
        ('{"age":40,"pain":' + "[" * 100 + "]" * 100 + "}").encode(),
        422,
        VALIDATION_DETAIL,
        {"pain": ["Invalid input type."]},
    )


_TIGHT = "Must be one of: lower_back, upper_back, hips, hamstrings, glutes, core."


def unicode_cases() -> Iterator[Hostile]:
    """Lone surrogates (escaped, which JSON allows, and raw, which UTF-8 forbids), look-alike
    characters and invisible ones; the path in ``errors`` keeps the caller's key."""
    yield Hostile(
        "unicode-lone-high-surrogate-nested-key",
        b'{"age":40,"pain":{"\\udfff":1}}',
        422,
        VALIDATION_DETAIL,
        {"pain.\udfff": ["Unknown field."]},
    )
    yield Hostile(
        "unicode-lone-surrogate-in-list",
        b'{"age":40,"muscles":{"tight":["\\ud800"]}}',
        422,
        VALIDATION_DETAIL,
        {"muscles.tight.0": [_TIGHT]},
    )
    yield Hostile(
        "unicode-reversed-surrogate-pair",
        b'{"age":40,"onset":"\\ude00\\ud83d"}',
        422,
        VALIDATION_DETAIL,
        {"onset": ["Must be one of: sudden, gradual."]},
    )
    yield Hostile(
        "unicode-surrogate-pair-key",
        b'{"age":40,"\\ud83d\\ude42":true}',
        422,
        VALIDATION_DETAIL,
        {"\U0001f642": ["Unknown field."]},
    )
    for label, value in (
        ("zero-width-space", "sudden\u200b"),
        ("nul", "sudden\u0000"),
        ("cyrillic-look-alike", "s\u0443dden"),
        ("fullwidth", "\uff53udden"),
        ("rtl-override", "\u202esudden"),
    ):
        yield _invalid(
            f"unicode-enum-{label}",
            {"age": 40, "onset": value},
            {"onset": ["Must be one of: sudden, gradual."]},
        )
    yield _invalid(
        "unicode-fullwidth-digits", {"age": "\uff14\uff10"}, {"age": ["Not a valid integer."]}
    )
    for label, raw in (
        ("raw-surrogate", b'{"age":40,"x":"\xed\xa0\x80"}'),
        ("overlong-slash", b'{"age":40,"x":"\xc0\xaf"}'),
        ("latin-1", '{"age":40,"x":"caf\u00e9"}'.encode("latin-1")),
        ("utf-16", '{"age":40}'.encode("utf-16")),
        ("utf-32", '{"age":40}'.encode("utf-32")),
        ("beyond-unicode", b'{"age":40,"x":"\xf4\x90\x80\x80"}'),
    ):
        yield Hostile(f"unicode-{label}", raw, 400, NOT_UTF8)


def duplicate_keys() -> Iterator[Hostile]:
    """Decided behaviour (openapi.yaml's description, README): a repeated key anywhere in the
    body is 400, even where the values agree or the key would be refused anyway, because
    picking one of two answers is a guess about what the person meant."""
    cases = [
        ("escaped-equal", '{"age":40,"\\u0061ge":40}', "age"),
        ("same-value", '{"age":40,"age":40}', "age"),
        ("null-then-answer", '{"age":40,"pain":null,"pain":{"level":2}}', "pain"),
        ("deep-in-unknown", '{"age":40,"x":{"y":1,"y":2}}', "y"),
        ("in-list-item", '{"age":40,"x":[{"z":1,"z":1}]}', "z"),
        (
            "red-flag",
            '{"age":40,"neuro":{"saddle_numbness":true,"saddle_numbness":false}}',
            "saddle_numbness",
        ),
    ]
    for label, text, key in cases:
        detail = f"The body is not valid: an object repeats the key {key!r}."
        yield Hostile(f"duplicate-{label}", text.encode(), 400, detail)
    # Keys differ in case: not a duplicate, an unknown field.
    yield Hostile(
        "duplicate-other-case",
        b'{"age":40,"Age":41}',
        422,
        VALIDATION_DETAIL,
        {"Age": ["Unknown field."]},
    )


def content_types() -> Iterator[Hostile]:
    """Media types that are not ``application/json`` (the status table has text/plain,
    form and missing)."""
    body = b'{"age":40}'
    for content_type in (
        "multipart/form-data; boundary=x",
        "application/json-patch+json",
        "application/vnd.api+json",
        "application/jsonx",
        "application/x-json",
        "json",
        "*/*",
        "application/*",
        "application/octet-stream",
    ):
        yield Hostile(
            f"content-type-{content_type}", body, 415, UNSUPPORTED, content_type=content_type
        )
    yield Hostile("content-type-missing", body, 415, UNSUPPORTED, content_type=None)
    for content_type in ("application/json; charset=utf-8", "APPLICATION/JSON; foo=bar"):
        yield Hostile(f"content-type-{content_type}", body, 200, content_type=content_type)


# Methods that are not POST on /assess: standard, WebDAV and made-up tokens. HEAD and OPTIONS
# are answered by werkzeug (HEAD gets the 405 without a body; OPTIONS is 200 with Allow).
ODD_METHODS = ("GET", "PUT", "PATCH", "DELETE", "TRACE", "PROPFIND", "MKCOL", "BREW", "X-HACK")


def odd_methods() -> Iterator[Hostile]:
    """Every method the endpoint does not serve: 405 problem with ``Allow``."""
    for method in ODD_METHODS:
        yield Hostile(
            f"method-{method}",
            b'{"age":40}',
            405,
            NOT_ALLOWED,
            method=method,
        )


EXPLAIN_DETAIL = "The query parameter 'explain' must be 'true' or 'false'."


def odd_queries() -> Iterator[Hostile]:
    """``explain`` is ``true`` or ``false`` (any case) and nothing else; other parameters
    are ignored, even when their percent-encoding is broken."""
    body = b'{"age":40}'
    for query in (
        "explain=%FF",
        "explain=%00",
        "explain=",
        "explain",
        "explain=true%20",
        "explain=%20true",
        "explain=tru%C3%A9",
        "explain=1",
        "explain=" + "t" * 3000,
    ):
        yield Hostile(f"query-{query[:40]}", body, 400, EXPLAIN_DETAIL, path=f"/assess?{query}")
    for query in ("explain=TRUE", "explain=False", "x=%zz&explain=false", "EXPLAIN=nope"):
        yield Hostile(f"query-{query}", body, 200, path=f"/assess?{query}")


NOT_FOUND = (
    "The requested URL was not found on the server. If you entered the URL manually please "
    "check your spelling and try again."
)


def odd_paths() -> Iterator[Hostile]:
    """Near-miss paths for the assessment and path traversal out of the docs' files: a
    problem 404, never a file from elsewhere, never a redirect to somewhere else."""
    body = b'{"age":40}'
    # ("//assess" is left out: gunicorn folds the slashes, the test client does not.)
    for path in ("/assess/", "/ASSESS", "/assess;x", "/assess%00", "/assess%2F"):
        yield Hostile(f"path-post-{path}", body, 404, NOT_FOUND, path=path)
    yield Hostile("path-post-escaped-letter", body, 200, path="/%61ssess")
    for path in (
        "/docs/../assess",
        "/docs/..%2f..%2f..%2fetc%2fpasswd",
        "/docs/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/docs/....//....//etc/passwd",
        "/docs/%5c..%5c..%5cetc%5cpasswd",
        "/docs/swagger-ui.css%00.js",
        "/docs/..",
        "/docs/%00",
        "/docs/" + "a" * 2000,
    ):
        yield Hostile(
            f"path-get-{path[:40]}",
            status=404,
            detail=NOT_FOUND,
            method="GET",
            path=path,
            content_type=None,
        )


def big_bodies() -> Iterator[Hostile]:
    """Over the default 64 KiB limit (sent with a ``Content-Length``; chunked is in the
    transport-specific tests)."""
    padded = b'{"age":40}' + b" " * (10 * 1024 * 1024)
    yield Hostile("big-10MB-valid-json", padded, 413, TOO_LARGE)
    yield Hostile("big-one-over", b'{"age":40}' + b" " * (DEFAULT_LIMIT - 9), 413, TOO_LARGE)
    yield Hostile("big-at-limit", b'{"age":40}' + b" " * (DEFAULT_LIMIT - 10), 200)
    # Just under the limit: thousands of unknown keys, each named in the 422 (bounded by
    # the body limit, so the error document is too).
    keys = [f"k{i}" for i in range(5000)]
    many = "{" + '"age":40,' + ",".join(f'"{key}":0' for key in keys) + "}"
    yield Hostile(
        "big-5000-unknown-keys",
        many.encode(),
        422,
        VALIDATION_DETAIL,
        {key: ["Unknown field."] for key in keys},
    )


def corpus() -> list[Hostile]:
    """The whole corpus; ids are unique."""
    cases = [
        *truncations(),
        *malformed(),
        *not_objects(),
        *deep_nesting(),
        *odd_numbers(),
        *unicode_cases(),
        *duplicate_keys(),
        *wrong_types(),
        *content_types(),
        *odd_methods(),
        *odd_queries(),
        *odd_paths(),
        *big_bodies(),
    ]
    ids = [case.id for case in cases]
    duplicates = {case_id for case_id in ids if ids.count(case_id) > 1}
    if duplicates:
        raise ValueError(f"duplicate corpus ids: {sorted(duplicates)}")
    return cases
