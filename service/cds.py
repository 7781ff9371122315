"""CDS Hooks 2.0: popcheck as a ``patient-view`` decision-support service.

The EHR (the CDS client) asks the discovery endpoint what popcheck needs, prefetches it, and
calls the service with it: the patient (for the age, from ``birthDate``) and the latest
QuestionnaireResponse to popcheck's Questionnaire (the answers). popcheck assesses those
answers exactly as ``POST /assess`` would and answers one card for the urgency.

popcheck never fetches anything itself (no outbound network), so ``fhirServer`` and
``fhirAuthorization`` are ignored. When the client sends no prefetch for the answers (the key
is absent, which CDS Hooks 2.0 says means the client did not or could not fetch it), the data
the service needs is missing and the answer is 412 Precondition Failed, as the spec's error
handling says. A prefetch key that is ``null`` (the client found nothing), an empty Bundle,
or no answers at all mean there is nothing to say: ``{"cards": []}``.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable, Mapping
from typing import Any, Final

from popcheck.assessment import Assessor
from popcheck.fhir import IntakeForm, document_from_response

__all__ = [
    "HOOK",
    "SERVICE_ID",
    "MissingPrefetch",
    "NoAnswers",
    "age_on",
    "cards_for",
    "discovery",
    "intake_document",
]

SERVICE_ID: Final = "popcheck-back-triage"
HOOK: Final = "patient-view"
SUMMARY_MAX: Final = 139
_INDICATORS: Final[Mapping[str, str]] = {
    "emergency": "critical",
    "urgent": "critical",
    "soon": "warning",
    "routine": "warning",
    "self_care": "info",
}
_TOP_CAUSES: Final = 3
_BIRTH_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


class MissingPrefetch(LookupError):
    """A prefetch key the service needs was not sent (412)."""


class NoAnswers(LookupError):
    """Nothing to assess: no answers, or a patient popcheck's guidance does not cover."""


def discovery(form: IntakeForm) -> dict[str, Any]:
    """The body of ``GET /cds-services``."""
    return {
        "services": [
            {
                "hook": HOOK,
                "id": SERVICE_ID,
                "title": "popcheck back triage",
                "description": (
                    "Triage of a back that no longer pops, from the patient's latest answers to "
                    "popcheck's intake Questionnaire: one card with the urgency, red flags, "
                    "reasons and likely causes."
                ),
                "prefetch": {
                    "patient": "Patient/{{context.patientId}}",
                    "intake": (
                        "QuestionnaireResponse?subject={{context.patientId}}"
                        f"&questionnaire={form.url}&_sort=-authored&_count=1"
                    ),
                },
                "usageRequirements": (
                    "Send both prefetch keys: popcheck does not query the FHIR server. The "
                    "answers come from a QuestionnaireResponse to " + form.url + "."
                ),
            }
        ]
    }


def age_on(birth_date: Any, today: dt.date) -> int | None:
    """Whole years from a FHIR ``date`` (``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``) to ``today``.

    A partial date is read as its first day (1 January, the 1st of the month): the oldest
    the patient can be, since age raises concern and never lowers it. ``None`` when there is
    no usable date.
    """
    if not isinstance(birth_date, str):
        return None
    match = _BIRTH_DATE.match(birth_date)
    if match is None:
        return None
    year, month, day = int(match[1]), int(match[2] or 1), int(match[3] or 1)
    try:
        born = dt.date(year, month, day)
    except ValueError:
        return None
    if born > today:
        return None
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def _newest_response(intake: Any) -> Mapping[str, Any] | None:
    """The QuestionnaireResponse in a prefetch value: itself, or the newest in a Bundle."""
    if not isinstance(intake, Mapping):
        return None
    if intake.get("resourceType") != "Bundle":
        return intake
    entries = intake.get("entry")
    if not isinstance(entries, list):
        return None
    responses = [
        entry["resource"]
        for entry in entries
        if isinstance(entry, Mapping)
        and isinstance(entry.get("resource"), Mapping)
        and entry["resource"].get("resourceType") == "QuestionnaireResponse"
    ]
    if not responses:
        return None
    # Newest first, as the prefetch asks (``_sort=-authored``); a client that ignored the sort
    # still gets the newest by ``authored`` (FHIR dateTimes of one zone sort as text).
    dated = [r for r in responses if isinstance(r.get("authored"), str)]
    newest: Mapping[str, Any] = (
        max(dated, key=lambda r: str(r["authored"])) if dated else responses[0]
    )
    return newest


def intake_document(form: IntakeForm, prefetch: Any, today: dt.date) -> dict[str, Any]:
    """The JSON request document from the prefetched answers and patient.

    Raises:
        MissingPrefetch: no ``intake`` prefetch, or no age in the answers and no
            ``patient`` prefetch (412).
        NoAnswers: the client found no answers, or the patient is younger than popcheck's
            guidance covers (no cards).
        popcheck.fhir.InvalidResponse: the answers do not answer the Questionnaire (422).
    """
    if not isinstance(prefetch, Mapping) or "intake" not in prefetch:
        raise MissingPrefetch("intake")
    response = _newest_response(prefetch["intake"])
    if response is None:
        raise NoAnswers("no QuestionnaireResponse")
    document = document_from_response(form, response)
    if not any(key != "age" for key in document):
        raise NoAnswers("no answers")
    if "age" not in document:
        if "patient" not in prefetch:
            raise MissingPrefetch("patient")
        patient = prefetch["patient"]
        birth = patient.get("birthDate") if isinstance(patient, Mapping) else None
        age = age_on(birth, today)
        if age is not None:
            low = form.fields["age"].minimum
            if low is not None and age < low:
                raise NoAnswers("younger than the guidance covers")
            document["age"] = age
    return document


def _summary(level_label: str, flags: list[dict[str, Any]]) -> str:
    summary = f"Back triage: {level_label}"
    if flags:
        summary += f" (red flag: {flags[0]['label']})"
    if len(summary) > SUMMARY_MAX:
        summary = summary[: SUMMARY_MAX - 1].rstrip() + "…"
    return summary


def _detail(assessment: Mapping[str, Any], level_label: str) -> str:
    urgency = assessment["urgency"]
    lines = [f"**{level_label}.** {urgency['seek_care']}"]
    if assessment["red_flags"]:
        lines += ["", "**Red flags**"]
        lines += [f"- {flag['label']}: {flag['explanation']}" for flag in assessment["red_flags"]]
    if urgency["reasons"]:
        lines += ["", "**Why**"]
        lines += [f"- {reason}" for reason in urgency["reasons"]]
    causes = assessment["causes"][:_TOP_CAUSES]
    if causes:
        lines += ["", "**Likely causes**"]
        lines += [f"- {cause['label']} ({cause['likelihood']})" for cause in causes]
    questions = assessment["questions"]
    if questions:
        lines += [
            "",
            f"{len(questions)} question(s) unanswered could change this; the first: "
            f"{questions[0]['text']}",
        ]
    lines += ["", f"_{assessment['disclaimer']}_"]
    return "\n".join(lines)


def cards_for(
    assessor: Assessor,
    assessment: Mapping[str, Any],
    new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
) -> list[dict[str, Any]]:
    """One card for the urgency of ``assessment``."""
    level = str(assessment["urgency"]["level"])
    labels = {entry["id"]: entry["label"] for entry in assessor.prepared.vocabulary["urgency"]}
    label = str(labels.get(level, level))
    ruleset = assessment["ruleset"]
    return [
        {
            "uuid": new_id(),
            "summary": _summary(label, assessment["red_flags"]),
            "indicator": _INDICATORS[level],
            "detail": _detail(assessment, label),
            "source": {"label": f"popcheck ruleset {ruleset['name']} {ruleset['version']}"},
        }
    ]
