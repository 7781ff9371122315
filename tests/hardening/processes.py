"""Processes under a ``popcheck serve``: its gunicorn workers and their memory."""

from __future__ import annotations

from pathlib import Path

from tests.deploy.harness import Serve


def worker_pids(server: Serve) -> set[int]:
    """The gunicorn workers under the ``popcheck serve`` supervisor (grandchildren)."""
    assert server.process is not None

    def children(pid: int) -> set[int]:
        # The parent field of every /proc/<pid>/stat (the "children" files need a kernel
        # option some CI kernels lack). The name may hold spaces: parse after its ")".
        found: set[int] = set()
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except (FileNotFoundError, ProcessLookupError, IndexError):
                continue  # the process ended while we looked
            if int(fields[1]) == pid:
                found.add(int(stat.parent.name))
        return found

    masters = children(server.process.pid)
    return {worker for master in masters for worker in children(master)}


def rss_kib(pid: int) -> int:
    """Resident memory of ``pid`` in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS for {pid}")
