"""CPU time spent by a process tree, from /proc: the cost of a request, load or no load.

Requests per second on two shared cores swing with whatever else runs; CPU seconds per
request barely do, so this is the figure to compare two variants of the code by.
"""

import os

from bench.memory import PROC, process_tree

TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(root: int) -> float:
    """User + system time of `root`'s tree, including children that have exited and been
    waited for (PostgreSQL's backends for closed connections, for example)."""
    ticks = 0
    for pid in process_tree(root):
        try:
            stat = (PROC / str(pid) / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        # Fields 14-17 of stat (utime, stime, cutime, cstime) are 12-15 after the name.
        ticks += sum(int(value) for value in fields[11:15])
    return ticks / TICKS_PER_SECOND
