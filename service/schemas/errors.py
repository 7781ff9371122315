"""Turn marshmallow's nested error messages into the contract's flat ``errors`` map."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# marshmallow files errors that concern an object as a whole (e.g. "Invalid input type."
# for ``"pain": 5``) under this key; the contract names the object's own path instead.
_SCHEMA_KEY = "_schema"


def flatten_messages(messages: Mapping[Any, Any] | list[Any]) -> dict[str, list[str]]:
    """``{"pain": {"level": ["..."]}, "muscles": {"tight": {2: ["..."]}}}`` becomes
    ``{"pain.level": ["..."], "muscles.tight.2": ["..."]}``.

    Errors about the document itself (not about any field) are filed under ``""``.
    """
    flat: dict[str, list[str]] = {}
    _walk(messages, (), flat)
    return flat


def _walk(node: Any, path: tuple[str, ...], flat: dict[str, list[str]]) -> None:
    if isinstance(node, Mapping):
        for key, child in node.items():
            child_path = path if key == _SCHEMA_KEY else (*path, str(key))
            _walk(child, child_path, flat)
    elif isinstance(node, list) and all(isinstance(item, str) for item in node):
        flat.setdefault(".".join(path), []).extend(node)
    elif isinstance(node, list):
        for item in node:
            _walk(item, path, flat)
    else:
        flat.setdefault(".".join(path), []).append(str(node))
