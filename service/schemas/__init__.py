"""marshmallow schemas at the HTTP edge: load requests into plain data, describe responses.

Nothing below ``service/api`` sees a schema; the pipeline gets plain dicts.
"""

from popcheck.schemas.errors import flatten_messages
from popcheck.schemas.request import AssessmentRequestSchema
from popcheck.schemas.response import AssessmentSchema, RulesetDescriptionSchema

__all__ = [
    "AssessmentRequestSchema",
    "AssessmentSchema",
    "RulesetDescriptionSchema",
    "flatten_messages",
]
