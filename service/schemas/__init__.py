"""marshmallow schemas at the HTTP edge: load requests into plain data, describe responses.

Nothing below ``service/api`` sees a schema; the pipeline gets plain dicts.
"""

from service.schemas.errors import flatten_messages
from service.schemas.request import AssessmentRequestSchema
from service.schemas.response import AssessmentSchema, RulesetDescriptionSchema

__all__ = [
    "AssessmentRequestSchema",
    "AssessmentSchema",
    "RulesetDescriptionSchema",
    "flatten_messages",
]
