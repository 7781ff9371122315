"""Every command in README.md and docs/*.md is run by a test, so none can go stale.

Commands are the ``$ ...`` lines of ``console`` blocks and the lines of ``sh`` blocks (a
trailing ``# comment`` is not part of the command). Each one is either

- run here: ``.venv/bin/popcheck ...`` (not ``serve``) in the checkout; ``curl`` against a
  real ``popcheck serve`` on a free port, output compared with what the page shows; the
  README's Python call, the same way;
- a step of docs/rules.md's authoring walkthrough, which tests/docs/test_authoring_guide.py
  follows literally; or
- listed in ``COVERED`` with the test that runs it (the test must exist), or, for the two
  commands no test machine can run (Docker, a Kubernetes cluster), the test that checks
  what they use.

A new command on any page fails ``test_every_command_is_run_somewhere`` until it is one of
these.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.deploy.harness import Processes, Serve
from tests.docs.guide_support import section

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
RULES_GUIDE = ROOT / "docs" / "rules.md"
WALKTHROUGH = "Authoring walkthrough"

_FENCE = re.compile(r"^```([a-z-]*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
_LOCAL = re.compile(r"(?:http://)?(?:127\.0\.0\.1|localhost):8080")

# Commands another test runs (test file :: test function), or checks when no test machine
# can run them.
_ROLLING = (
    "tests/deploy/test_rolling_restart.py::test_rolling_restart_behind_haproxy_loses_no_request"
)
_HAPROXY_LOG = "tests/deploy/test_haproxy_log.py::test_haproxy_writes_one_json_line_per_request"
_ANNOUNCE = "tests/deploy/test_serve.py::test_announce_prints_one_plain_line_with_the_docs_address"
_LB_CURL = (
    "curl -s -X POST localhost:8080/assess -H 'Content-Type: application/json' -d '{\"age\": 40}'"
)

COVERED: dict[str, str] = {
    # CI runs it on every submission (.ci/run); a test running the suite would recurse.
    "make test": ".ci/run",
    # Its recipe is checked below to be `popcheck serve --announce` on HOST, which
    # test_serve.py starts and reads the ready line of.
    "make run": _ANNOUNCE,
    # Two instances behind deploy/haproxy.cfg, under load, through a rolling restart.
    "PORT=8081 .venv/bin/popcheck serve &": _ROLLING,
    "PORT=8082 .venv/bin/popcheck serve &": _ROLLING,
    "haproxy -db -f deploy/haproxy.cfg": _HAPROXY_LOG,
    _LB_CURL: _HAPROXY_LOG,
    'echo "show stat" | socat stdio /tmp/popcheck-haproxy.sock | cut -d, -f1,2,18': _ROLLING,
    # No Docker daemon or cluster on the test machines: hadolint checks the Dockerfile, and
    # kubernetes-validate --strict the manifests.
    "docker build -f deploy/Dockerfile -t popcheck:0.1.0 .": (
        "tests/deploy/test_deploy_files.py::test_dockerfile_passes_hadolint"
    ),
    "docker run --rm -p 8080:8080 popcheck:0.1.0": (
        "tests/deploy/test_deploy_files.py::test_dockerfile_runs_as_non_root_with_exec_form_serve"
    ),
    "kubectl apply -f deploy/kubernetes/": (
        "tests/deploy/test_deploy_files.py::test_kubernetes_manifests_validate_strictly"
    ),
}


@dataclass(frozen=True)
class DocCommand:
    page: str
    command: str
    shown: tuple[str, ...]


def _strip_comment(line: str) -> str:
    """``line`` without a trailing ``# comment`` (outside quotes)."""
    quote = None
    for index, char in enumerate(line):
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (index == 0 or line[index - 1].isspace()):
            return line[:index].rstrip()
    return line.rstrip()


def doc_commands(page: Path) -> Iterator[DocCommand]:
    text = page.read_text(encoding="utf-8")
    if page == RULES_GUIDE:
        # The walkthrough's commands: tests/docs/test_authoring_guide.py runs each of them.
        text = text.replace(section(text, WALKTHROUGH), "\n")
    name = str(page.relative_to(ROOT))
    for fence in _FENCE.finditer(text):
        language, lines = fence.group(1), fence.group(2).splitlines()
        if language == "sh":
            for line in lines:
                command = _strip_comment(line)
                if command:
                    yield DocCommand(name, command, ())
        elif language in {"console", "shell-session"}:
            for index, line in enumerate(lines):
                if not line.startswith("$ "):
                    continue
                shown: list[str] = []
                for following in lines[index + 1 :]:
                    if following.startswith("$ "):
                        break
                    shown.append(following)
                yield DocCommand(name, _strip_comment(line[2:]), tuple(shown))


ALL = [command for page in PAGES for command in doc_commands(page)]


def _runs_here(command: str) -> bool:
    words = command.split()
    if words[0] == "curl" and _LOCAL.search(command) and "http://" in command:
        return True
    return words[0] == ".venv/bin/popcheck" and words[1:2] != ["serve"]


def test_the_pages_have_commands() -> None:
    pages = {command.page for command in ALL}
    assert {"README.md", "docs/operations.md"} <= pages
    assert any(command.command.startswith(".venv/bin/popcheck rules") for command in ALL)


def test_every_command_is_run_somewhere() -> None:
    orphans = [
        f"{command.page}: {command.command}"
        for command in ALL
        if not _runs_here(command.command) and command.command not in COVERED
    ]
    assert not orphans, "commands no test runs (run them here or list them in COVERED):\n" + (
        "\n".join(orphans)
    )


@pytest.mark.parametrize("where", sorted(set(COVERED.values())))
def test_every_covering_test_exists(where: str) -> None:
    path, _, function = where.partition("::")
    assert (ROOT / path).is_file(), path
    if function:
        assert f"def {function}(" in (ROOT / path).read_text(encoding="utf-8"), where


def test_the_walkthrough_is_followed_by_its_test() -> None:
    guide_test = (ROOT / "tests/docs/test_authoring_guide.py").read_text(encoding="utf-8")
    assert f'HEADING = "{WALKTHROUGH}"' in guide_test


def test_make_run_runs_popcheck_serve_announcing_on_host() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = re.search(r"^run: .*\n((?:\t.*\n)+)", makefile, flags=re.MULTILINE)
    assert recipe is not None
    assert recipe.group(1).strip() == "HOST=$(HOST) $(BIN)/popcheck serve --announce"
    assert re.search(r"^HOST \?= 127\.0\.0\.1$", makefile, flags=re.MULTILINE)


CLI = [command for command in ALL if command.command.startswith(".venv/bin/popcheck ")]


@pytest.mark.parametrize("doc", [c for c in CLI if _runs_here(c.command)], ids=lambda c: c.command)
def test_cli_command_runs_as_shown(doc: DocCommand) -> None:
    words = shlex.split(doc.command)
    env = {key: value for key, value in os.environ.items() if not key.startswith("POPCHECK_")}
    done = subprocess.run(
        [sys.executable, "-m", "popcheck.cli", *words[1:]],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    for line in doc.shown:
        assert line in done.stdout, line


# Against a real service ------------------------------------------------------------------


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Serve]:
    processes = Processes(tmp_path_factory.mktemp("doc-commands"))
    try:
        yield processes.serve(workers=1)
    finally:
        processes.cleanup()


def _local(text: str, port: int) -> str:
    return _LOCAL.sub(f"http://127.0.0.1:{port}", text)


CURL = [command for command in ALL if command.command.startswith("curl ")]


@pytest.mark.slow
@pytest.mark.parametrize("doc", [c for c in CURL if _runs_here(c.command)], ids=lambda c: c.command)
def test_curl_command_answers_as_shown(service: Serve, doc: DocCommand) -> None:
    done = subprocess.run(
        ["bash", "-o", "pipefail", "-c", _local(doc.command, service.port)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == list(doc.shown) or not doc.shown, done.stdout


def _python_blocks(page: Path) -> list[str]:
    text = page.read_text(encoding="utf-8")
    return [fence.group(2) for fence in _FENCE.finditer(text) if fence.group(1) == "python"]


@pytest.mark.slow
def test_readme_python_call_prints_what_it_says(service: Serve) -> None:
    blocks = _python_blocks(ROOT / "README.md")
    assert len(blocks) == 1, "README.md shows one Python call"
    code = blocks[0]
    printed = re.findall(r"^print\(.*\)\s+# (.+)$", code, flags=re.MULTILINE)
    assert printed, "the Python call says what it prints in a comment on its print line"
    done = subprocess.run(
        [sys.executable, "-c", _local(code, service.port)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == printed
