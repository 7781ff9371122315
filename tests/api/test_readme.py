"""README.md is one page a newcomer reads top to bottom: the two commands first, what the
service answers, its endpoints and request fields as they are, the command line through
.venv/bin, and links that lead to files in this repository. Its commands are run by
tests/docs/test_doc_commands.py and its curl examples by tests/docs/test_examples.py; the
settings it leaves to docs/operations.md are checked there."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from popcheck.config import _ENV as SETTINGS_ENV
from popcheck.schemas import AssessmentRequestSchema
from tests.api.support import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
OPERATIONS = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
DOC_PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _section(heading: str) -> str:
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", README, re.M | re.S)
    assert match is not None, heading
    return match.group(1)


def test_readme_is_one_page() -> None:
    assert len(README.splitlines()) < 200


def test_readme_puts_the_two_commands_near_the_top() -> None:
    head = "\n".join(README.splitlines()[:25])
    assert "make run" in head and "make test" in head
    assert "foreground" in _section("Quick start")


def test_readme_shows_the_ready_line_make_run_prints() -> None:
    from popcheck.serversettings import ServerSettings

    line = f"popcheck is ready: open {ServerSettings().local_url}/docs (Ctrl-C stops it)"
    assert line in README
    serve_test = (ROOT / "tests/deploy/test_serve.py").read_text(encoding="utf-8")
    assert "popcheck is ready: open {url} (Ctrl-C stops it)" in serve_test


def test_readme_lists_every_endpoint(client: FlaskClient) -> None:
    for path in ("/assess", "/rules", "/healthz", "/livez", "/readyz", "/metrics", "/openapi.yaml"):
        assert f"`{path}`" in README, path
        assert client.open(path, method="OPTIONS").status_code == 204, path


def test_readme_request_fields_are_real() -> None:
    table = _section("The request")
    named = set()
    for cell in re.findall(r"^\| (.*?) \|", table, flags=re.MULTILINE):
        named |= set(re.findall(r"`([a-z_]+)`", cell))
    named -= {"field"}
    assert named, "README.md has a table of request fields"
    assert named <= set(AssessmentRequestSchema().fields), named
    assert "/docs" in table


def test_readme_uses_the_command_line_through_the_venv() -> None:
    cli = _section("Without a server: the command line")
    block = re.search(r"^```sh\n(.*?)^```", cli, flags=re.MULTILINE | re.DOTALL)
    assert block is not None
    commands = re.findall(r"^(\S+) ", block.group(1), flags=re.MULTILINE)
    assert commands and set(commands) == {".venv/bin/popcheck"}
    assert "rules check" in cli and "rules test" in cli


def test_readme_says_how_the_versions_relate() -> None:
    versions = _section("Versions")
    for version in ("package", "API", "ruleset"):
        assert version in versions


def test_operations_documents_every_setting() -> None:
    rows = set(re.findall(r"^\| `([A-Z_]+)` \|", OPERATIONS, flags=re.MULTILINE))
    server = (ROOT / "service" / "serversettings.py").read_text(encoding="utf-8")
    read_by_serve = set(re.findall(r'env(?:, |\.get\()"([A-Z_]+)"', server))
    assert {"HOST", "PORT", "WORKERS", "REQUEST_TIMEOUT", "FORWARDED_ALLOW_IPS"} <= read_by_serve
    assert rows >= {*read_by_serve, *SETTINGS_ENV}
    assert "| `POPCHECK_MAX_BODY_BYTES` | `65536` |" in OPERATIONS
    assert "| `HOST` | `127.0.0.1` |" in OPERATIONS


def test_links_lead_to_files_in_the_repository() -> None:
    for page in DOC_PAGES:
        text = page.read_text(encoding="utf-8")
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
            if target.startswith(("http://", "https://")):
                continue
            resolved = (page.parent / target).resolve()
            assert resolved.is_relative_to(ROOT), f"{page.name}: {target} is outside the repo"
            assert resolved.exists(), f"{page.name}: {target} does not exist"
        assert "shared design" not in text.lower(), page.name
