"""Waiting for a condition on processes (a worker replaced, a reload done), bounded in time.

The processes themselves are found through devtools.processes (psutil); the soak signals
nothing it did not start.
"""

import time
from collections.abc import Callable


def wait_for(
    condition_name: str, check: Callable[[], bool], timeout: float, poll: float = 0.05
) -> float:
    """Poll `check` until true; return the seconds it took, or raise TimeoutError."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"{condition_name}: not within {timeout:.0f} s")
        time.sleep(poll)
    return time.monotonic() - started
