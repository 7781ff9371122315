"""schemathesis hooks: the body of ``GET /openapi.yaml`` is YAML text.

``openapi.yaml`` describes the document it serves as a string (``application/yaml``,
``type: string``), so that client generators hand callers the text. schemathesis parses every
YAML response into data before validating it, and would then hold the parsed document to
``type: string``; this keeps it the text the spec describes (``test_spec`` holds the text to
the committed file).

Imported by ``test_fuzz_inprocess``; the CLI run in ``test_gunicorn`` loads it through
``SCHEMATHESIS_HOOKS``, as an operator running schemathesis against the service would.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from schemathesis.core.media_types import YAML_MEDIA_TYPES

# Every YAML media type: schemathesis picks the first registered one of the same family, and
# its own deserializer is registered under each of them.


@schemathesis.deserializer(*YAML_MEDIA_TYPES)
def yaml_as_text(ctx: Any, response: Any) -> str:
    text: str = response.content.decode(response.encoding or "utf-8")
    return text
