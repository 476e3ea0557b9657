"""Processes seen through psutil (Linux and macOS), and stopped by their own PID.

Nothing here finds or signals a process by name: only what the caller started, and its
descendants.
"""

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Self

import psutil


def children(pid: int) -> list[int]:
    """PIDs whose parent is `pid` (none once it has gone)."""
    try:
        return sorted(child.pid for child in psutil.Process(pid).children())
    except psutil.NoSuchProcess:
        return []


def process_tree(root: int) -> list[int]:
    """`root` and every descendant of it (just `root` once it has gone)."""
    try:
        descendants = psutil.Process(root).children(recursive=True)
    except psutil.NoSuchProcess:
        return [root]
    return [root, *(child.pid for child in descendants)]


def is_running(pid: int) -> bool:
    """True while `pid` exists and is not a zombie."""
    try:
        return psutil.Process(pid).status() not in {psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD}
    except psutil.NoSuchProcess:
        return False


def command_line(pid: int) -> str:
    """The process's argv joined by spaces, or "" once it has gone."""
    try:
        return " ".join(psutil.Process(pid).cmdline()).strip()
    except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
        return ""


def uvicorn_workers(supervisor_pid: int) -> list[int]:
    """uvicorn's live worker processes: the supervisor's children but multiprocessing's
    resource tracker, a helper that serves no request."""
    return [
        pid
        for pid in children(supervisor_pid)
        if is_running(pid) and "resource_tracker" not in command_line(pid)
    ]


def tree_cpu_seconds(root: int) -> float:
    """User + system time of `root`'s tree, including children that have exited and been
    waited for (PostgreSQL's backends for closed connections, for example)."""
    total = 0.0
    for pid in process_tree(root):
        try:
            times = psutil.Process(pid).cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system + times.children_user + times.children_system
    return total


def rss_bytes(pids: list[int]) -> int:
    """The summed resident set size of `pids` (processes that have gone count as 0)."""
    total = 0
    for pid in pids:
        try:
            total += psutil.Process(pid).memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return total


def open_files_limit(pid: int) -> int:
    """The soft limit on open files of a running process (-1 for unlimited)."""
    soft, _hard = psutil.Process(pid).rlimit(psutil.RLIMIT_NOFILE)
    return -1 if soft == psutil.RLIM_INFINITY else int(soft)


def tcp_ports(pids: list[int]) -> set[int]:
    """Local TCP ports of the sockets `pids` hold."""
    ports: set[int] = set()
    for pid in pids:
        try:
            connections = psutil.Process(pid).net_connections(kind="tcp")
        except psutil.NoSuchProcess:
            continue
        ports.update(connection.laddr.port for connection in connections if connection.laddr)
    return ports


def deleted_open_file_bytes(pid: int, under: Path) -> int:
    """Bytes in the files under `under` that `pid` holds open although they were deleted.

    psutil's `open_files()` leaves deleted files out, and Nginx unlinks a proxy temp file
    right after creating it, so this one reads the descriptors from /proc/PID/fd (Linux
    only): each is a link to the file's path with " (deleted)" appended.
    """
    total = 0
    fd_dir = Path("/proc") / str(pid) / "fd"
    for fd in fd_dir.iterdir():
        try:
            target = os.readlink(fd)
            if target.startswith(str(under)) and target.endswith("(deleted)"):
                total += fd.stat().st_size
        except OSError:
            continue
    return total


def wait_until_listening(
    process: subprocess.Popen[bytes], port: int, timeout: float, failed: Callable[[], str]
) -> bool:
    """Wait for `process` to accept TCP connections on 127.0.0.1:`port`.

    True once it does, False after `timeout` s; raises RuntimeError(`failed()`) if the
    process exits first.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(failed())
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def stop_process(
    process: "subprocess.Popen[bytes]",
    timeout: float,
    stop_signal: signal.Signals = signal.SIGTERM,
    *,
    kill_group: bool = False,
) -> int:
    """Send `stop_signal` to the process (by its PID), wait up to `timeout` seconds, then
    SIGKILL it (its whole process group when `kill_group`: one it leads, started with
    start_new_session); return its exit status. A process that has ended is left alone."""
    if process.poll() is None:
        process.send_signal(stop_signal)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            if kill_group:
                os.killpg(process.pid, signal.SIGKILL)
            else:
                process.kill()
            process.wait()
    return process.returncode


class Started:
    """A process runner used as `with Runner(...) as running:`: started on entry, stopped
    by its PID on exit, whatever happened inside."""

    def start(self) -> Self:
        raise NotImplementedError

    def stop(self) -> object:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
