"""``openapi.yaml`` itself: valid OpenAPI 3.1, exactly what ``make spec`` writes and the service
serves, covering every route of the app, and saying what the marshmallow schemas enforce."""

from __future__ import annotations

import builtins
import difflib
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask import Flask
from flask.testing import FlaskClient
from marshmallow import Schema, fields, validate
from openapi_spec_validator import validate as validate_spec

from popcheck.api.spec import PATHS_FILE, load_spec, render_spec
from popcheck.cli import main
from popcheck.schemas import AssessmentRequestSchema, AssessmentSchema, RulesetDescriptionSchema
from popcheck.schemas.fields import StrictBoolean, StrictInteger, StrictNumber
from tests.api.support import ROOT, SPEC_PATH

SPEC: dict[str, Any] = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
SCHEMAS: dict[str, Any] = SPEC["components"]["schemas"]
IMPLICIT_METHODS = {"HEAD", "OPTIONS"}
# Routes of the /docs page itself (service/api/docs.py), not of the API: Swagger UI's script,
# stylesheet and icons, and the /docs/ redirect. Listed as operations they showed up in /docs
# as API calls next to /assess; the page (/docs) and / stay documented.
DOCS_ASSET_ROUTES = {
    ("/docs/", "get"),
    ("/docs/swagger-initializer.js", "get"),
    ("/docs/{filename}", "get"),
}


def test_spec_is_valid_openapi_3_1() -> None:
    assert SPEC["openapi"].startswith("3.1")
    validate_spec(SPEC)


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML keeps the last of two equal keys without a word; a spec must not."""


def _unique_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    keys = [loader.construct_object(key) for key, _ in node.value]
    repeated = sorted({str(key) for key in keys if keys.count(key) > 1})
    assert not repeated, f"openapi.yaml line {node.start_mark.line + 1} repeats {repeated}"
    return dict(loader.construct_pairs(node))


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _unique_mapping,  # type: ignore[arg-type]
)


def test_spec_has_no_repeated_keys() -> None:
    assert yaml.load(SPEC_PATH.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader) == SPEC


def _stale_message(committed: bytes, generated: bytes) -> str:
    diff = difflib.unified_diff(
        committed.decode("utf-8", "replace").splitlines(),
        generated.decode("utf-8", "replace").splitlines(),
        "openapi.yaml (committed)",
        "make spec",
        lineterm="",
    )
    shown = "\n".join(list(diff)[:40])
    return (
        "openapi.yaml is generated from service/schemas/ and service/api/spec_paths.yaml and "
        f"differs from what they give now: run `make spec` and commit it.\n{shown}"
    )


def test_committed_spec_is_what_make_spec_writes() -> None:
    committed = SPEC_PATH.read_bytes()
    generated = render_spec()
    # Line endings as checked out must not decide it; every other byte does.
    if committed.replace(b"\r\n", b"\n") != generated:
        pytest.fail(_stale_message(committed, generated), pytrace=False)


def test_make_spec_runs_the_spec_command(tmp_path: Path) -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "\n\t$(BIN)/popcheck spec -o openapi.yaml\n" in makefile.split("\nspec:", 1)[1]
    written = tmp_path / "openapi.yaml"
    assert main(["spec", "-o", str(written)]) == 0
    assert written.read_bytes() == render_spec()


def test_stale_spec_message_names_the_fix() -> None:
    message = _stale_message(b"a: 1\n", b"a: 2\n")
    assert "run `make spec`" in message
    assert "-a: 1" in message and "+a: 2" in message


def _with_properties(node: Any, path: str = "") -> list[str]:
    """Paths of inline object schemas (``properties``) in ``node``."""
    found = [path] if isinstance(node, dict) and "properties" in node else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _with_properties(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _with_properties(value, f"{path}/{i}")
    return found


def test_paths_file_writes_no_object_schema() -> None:
    # Objects are declared once, in service/schemas; the paths file refers to them by $ref.
    text = (ROOT / "service" / "api" / PATHS_FILE).read_text(encoding="utf-8")
    document = yaml.safe_load(text)
    assert "schemas" not in document.get("components", {})
    assert _with_properties(document) == []


def test_served_spec_is_the_file(client: FlaskClient) -> None:
    response = client.get("/openapi.yaml")
    assert response.status_code == 200
    assert response.mimetype == "application/yaml"
    assert response.get_data() == load_spec() == SPEC_PATH.read_bytes()


def _openapi_path(rule: str) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def _app_operations(app: Flask) -> set[tuple[str, str]]:
    return {
        (_openapi_path(rule.rule), method.lower())
        for rule in app.url_map.iter_rules()
        for method in (rule.methods or set()) - IMPLICIT_METHODS
    }


def _spec_operations() -> set[tuple[str, str]]:
    return {(path, method) for path, item in SPEC["paths"].items() for method in item}


def test_every_route_is_in_the_spec(app: Flask) -> None:
    missing = _app_operations(app) - _spec_operations() - DOCS_ASSET_ROUTES
    assert not missing, f"routes missing from openapi.yaml: {sorted(missing)}"


def test_the_docs_page_assets_are_routes_but_no_operations(app: Flask) -> None:
    assert DOCS_ASSET_ROUTES <= _app_operations(app)
    assert not DOCS_ASSET_ROUTES & _spec_operations()


def test_every_documented_operation_exists(app: Flask) -> None:
    extra = _spec_operations() - _app_operations(app)
    assert not extra, f"openapi.yaml documents routes the app does not have: {sorted(extra)}"


def test_every_operation_documents_its_errors_and_request_id() -> None:
    for path, item in SPEC["paths"].items():
        for method, operation in item.items():
            assert "500" in operation["responses"], (path, method)
            params = [p.get("$ref") for p in operation.get("parameters", [])]
            assert "#/components/parameters/RequestId" in params, (path, method)


def test_assess_documents_every_error_status() -> None:
    responses = SPEC["paths"]["/assess"]["post"]["responses"]
    assert set(responses) == {"200", "400", "401", "413", "415", "422", "500"}


# request schema: the generated spec says what marshmallow enforces ---------------------------
# openapi.yaml's schemas are generated from the marshmallow schemas (service/schemas/openapi.py
# maps the custom fields); these walk both and hold the mapping to the validation it describes.


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in node:
        return SCHEMAS[node["$ref"].rsplit("/", 1)[1]]
    if "oneOf" in node:
        (target,) = [_resolve(option) for option in node["oneOf"] if option != {"type": "null"}]
        return target
    return node


def _types(node: dict[str, Any]) -> set[str]:
    declared = node.get("type", [])
    return {declared} if isinstance(declared, str) else set(declared)


def _compare_field(path: str, field: fields.Field[Any], prop: dict[str, Any]) -> None:
    # A nullable enum is oneOf its named component and null; compare the component.
    nullable = "null" in _types(prop) or "oneOf" in prop
    assert nullable == bool(field.allow_none), path
    prop = _resolve(prop)
    types = _types(prop)
    validators = list(field.validators)
    ranges = [v for v in validators if isinstance(v, validate.Range)]
    choices = [v for v in validators if isinstance(v, validate.OneOf)]
    if isinstance(field, StrictInteger):
        assert "integer" in types, path
    elif isinstance(field, StrictNumber):
        assert "number" in types, path
    elif isinstance(field, StrictBoolean):
        assert "boolean" in types, path
    elif isinstance(field, fields.List):
        assert "array" in types and prop.get("uniqueItems") is True, path
        inner = field.inner
        inner_choices = [v for v in inner.validators if isinstance(v, validate.OneOf)]
        assert "$ref" in prop["items"], f"{path}: the items' enum must be a named component"
        assert list(_resolve(prop["items"])["enum"]) == list(inner_choices[0].choices), path
        # Unique items from n choices: never more than n, and the schema refuses more whole.
        assert prop.get("maxItems") == len(inner_choices[0].choices), path
        assert getattr(field, "max_items", None) == prop["maxItems"], path
    elif isinstance(field, fields.String):
        assert "string" in types, path
    if ranges:
        assert (prop.get("minimum"), prop.get("maximum")) == (ranges[0].min, ranges[0].max), path
    else:
        assert "minimum" not in prop and "maximum" not in prop, path
    if choices:
        assert prop["enum"] == list(choices[0].choices), path


def _compare_schema(prefix: str, schema: Schema, node: dict[str, Any]) -> list[str]:
    node = _resolve(node)
    assert node.get("additionalProperties") is False, f"{prefix or 'request'} must close"
    assert set(schema.fields) == set(node["properties"]), prefix
    required = {name for name, f in schema.fields.items() if f.required}
    assert required == set(node.get("required", [])), prefix
    leaves: list[str] = []
    for name, field in schema.fields.items():
        path = f"{prefix}{name}"
        prop = node["properties"][name]
        if isinstance(field, fields.Nested):
            assert field.allow_none and {"type": "null"} in prop["oneOf"], path
            leaves += _compare_schema(f"{path}.", field.schema, prop)
        else:
            _compare_field(path, field, prop)
            leaves.append(path)
    return leaves


def test_request_schema_matches_openapi() -> None:
    leaves = _compare_schema("", AssessmentRequestSchema(), SCHEMAS["AssessmentRequest"])
    assert {"age", "pain.level", "muscles.tight", "history.recent_trauma"} <= set(leaves)


# response schemas: marshmallow and OpenAPI name the same fields ---------------------------


def _response_names(schema: Schema, node: dict[str, Any], path: str) -> None:
    node = _resolve(node)
    names = {f.data_key or name for name, f in schema.fields.items()}
    assert names == set(node["properties"]), path
    required = {f.data_key or name for name, f in schema.fields.items() if f.required}
    assert required == set(node.get("required", [])), path
    for name, field in schema.fields.items():
        key = field.data_key or name
        inner = field.inner if isinstance(field, fields.List) else field
        if isinstance(inner, fields.Nested):
            prop = node["properties"][key]
            _response_names(inner.schema, prop.get("items", prop), f"{path}.{key}")


@pytest.mark.parametrize(
    ("schema", "component"),
    [(AssessmentSchema(), "Assessment"), (RulesetDescriptionSchema(), "RulesetDescription")],
)
def test_response_schemas_match_openapi(schema: Schema, component: str) -> None:
    _response_names(schema, SCHEMAS[component], component)


# what client generators read -----------------------------------------------------------------
# openapi-python-client, openapi-typescript and datamodel-code-generator name types after
# components: an inline enum or object gets a name of the generator's making (`Type`,
# `Status`, `MatchedItem`), and null inside an enum becomes a third type or a `None` member.


def _nodes(node: Any, path: str) -> Any:
    """Every schema object under ``node``, with its path."""
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            yield from _nodes(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _nodes(value, f"{path}/{index}")


def test_every_enum_is_a_named_component_without_null() -> None:
    for name, schema in SCHEMAS.items():
        for path, node in _nodes(schema, name):
            if "enum" in node:
                assert path == name, f"{path}: an inline enum; name it (COMPONENT)"
                assert None not in node["enum"], f"{path}: null inside an enum"


def test_every_object_states_additional_properties() -> None:
    for name, schema in SCHEMAS.items():
        for path, node in _nodes(schema, name):
            if node.get("type") == "object":
                assert "additionalProperties" in node, path


def test_objects_are_components_not_inline() -> None:
    for name, schema in SCHEMAS.items():
        for path, node in _nodes(schema, name):
            if path != name and "properties" in node:
                raise AssertionError(f"{path}: an inline object; make it a component")


# Names that are types already in a language clients are generated in.
_BUILTIN_NAMES = {
    # Python builtins (and the typing names generated code imports)
    *(name for name in dir(builtins) if name[:1].isupper()),
    *{"Any", "Dict", "List", "Optional", "Union", "Literal", "Type"},
    # TypeScript and JavaScript globals
    *{"Array", "Boolean", "Date", "Error", "Function", "Map", "Number", "Object", "Partial"},
    *{"Promise", "Record", "Required", "Response", "Request", "Set", "String", "Symbol"},
    *{"Headers", "Event", "Node", "Element", "Document", "Location", "Storage", "URL"},
}


def test_no_schema_is_named_after_a_builtin() -> None:
    # Schemas become top-level types in a client (headers, responses and the like do not).
    assert "Warning" in _BUILTIN_NAMES
    assert not sorted(set(SCHEMAS) & _BUILTIN_NAMES)


def test_every_component_is_used() -> None:
    text = SPEC_PATH.read_text(encoding="utf-8")
    for kind, components in SPEC["components"].items():
        if kind == "securitySchemes":
            continue  # used by name in `security`, not by $ref
        for name in components:
            assert f"'#/components/{kind}/{name}'" in text, f"components.{kind}.{name} unused"


def test_servers_are_relative() -> None:
    # No fixed host: every path is relative to wherever the service runs.
    assert [server["url"] for server in SPEC["servers"]] == ["/"]
