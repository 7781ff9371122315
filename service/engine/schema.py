"""JSON Schemas of the files in a rules directory (draft 2020-12).

``docs/rules.md`` embeds the table schema verbatim (a test keeps it in step) and
``popcheck rules schema`` prints them all, so editors that understand JSON Schema can
validate files while authors type.
"""

from __future__ import annotations

from typing import Any, Final

_CELL: Final[dict[str, Any]] = {"type": ["string", "number", "boolean", "null"]}
_NAME: Final[dict[str, Any]] = {"type": "string", "pattern": "^[a-z][a-z0-9_]*(\\.[a-z0-9_]+)*$"}

TABLE_SCHEMA: Final[dict[str, Any]] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "popcheck decision table",
    "type": "object",
    "required": ["table", "hit_policy", "inputs", "outputs", "rules"],
    "additionalProperties": False,
    "properties": {
        "table": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
        "description": {"type": "string"},
        "hit_policy": {"enum": ["UNIQUE", "ANY", "FIRST", "PRIORITY", "COLLECT", "RULE ORDER"]},
        "aggregation": {"enum": ["SUM", "MIN", "MAX", "COUNT", None]},
        "complete": {"type": "boolean"},
        "inputs": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "type"],
                "additionalProperties": False,
                "properties": {
                    "name": _NAME,
                    "type": {"enum": ["int", "number", "bool", "enum", "enum_list"]},
                    "values": {
                        "type": "array",
                        "items": {"type": "string"},
                        "minItems": 1,
                        "uniqueItems": True,
                    },
                    "range": {
                        "type": "array",
                        "items": {"type": "number"},
                        "minItems": 2,
                        "maxItems": 2,
                    },
                },
            },
        },
        "outputs": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["name", "type"],
                "additionalProperties": False,
                "properties": {
                    "name": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
                    "type": {"enum": ["enum", "string", "int", "number", "bool"]},
                    "values": {
                        "type": "array",
                        "items": {"type": "string"},
                        "minItems": 1,
                        "uniqueItems": True,
                    },
                    "catalog": {"type": "string"},
                    "default": {"type": ["string", "number", "boolean", "null"]},
                },
            },
        },
        "rules": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "then", "source"],
                "additionalProperties": False,
                "properties": {
                    "id": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_.-]*$"},
                    "when": {"type": "object", "additionalProperties": _CELL},
                    "then": {
                        "type": "object",
                        "additionalProperties": {"type": ["string", "number", "boolean", "null"]},
                    },
                    "source": {"type": "string", "minLength": 1},
                    "note": {"type": "string"},
                },
            },
        },
    },
}

RULESET_SCHEMA: Final[dict[str, Any]] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "popcheck ruleset",
    "type": "object",
    "required": ["name", "version", "tables", "catalog"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "description": {"type": "string"},
        "version": {"type": "string", "pattern": "^\\d+\\.\\d+\\.\\d+([-+][0-9A-Za-z.-]+)?$"},
        "tables": {
            "type": "array",
            "items": {"type": "string", "pattern": "\\.ya?ml$"},
            "minItems": 1,
            "uniqueItems": True,
        },
        "catalog": {"type": "string"},
        "constants": {
            "type": "object",
            "additionalProperties": {"type": "number"},
        },
    },
}

CATALOG_SCHEMA: Final[dict[str, Any]] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "popcheck catalog: section -> id -> text (or an object of texts)",
    "type": "object",
    "additionalProperties": {"type": "object"},
}

SCENARIO_SCHEMA: Final[dict[str, Any]] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "popcheck engine scenarios (a file holds one scenario or a list of them)",
    "$defs": {
        "scenario": {
            "type": "object",
            "required": ["name", "facts", "expect"],
            "additionalProperties": False,
            "properties": {
                "name": {"type": "string", "minLength": 1},
                "facts": {"type": "object"},
                "expect": {
                    "type": "object",
                    "additionalProperties": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {
                            "matched": {"type": "array", "items": {"type": "string"}},
                            "value": True,
                        },
                    },
                },
            },
        }
    },
    "oneOf": [
        {"$ref": "#/$defs/scenario"},
        {"type": "array", "items": {"$ref": "#/$defs/scenario"}},
    ],
}

SCHEMAS: Final[dict[str, dict[str, Any]]] = {
    "ruleset": RULESET_SCHEMA,
    "table": TABLE_SCHEMA,
    "catalog": CATALOG_SCHEMA,
    "scenario": SCENARIO_SCHEMA,
}
