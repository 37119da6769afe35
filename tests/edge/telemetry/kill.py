"""Run a function in a process of its own and SIGKILL it once it says it is ready: what a power
cut or the OOM killer does to a chair's process, mid-work."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
from collections.abc import Callable, Iterator
from typing import Any


def kill_when_ready(target: Callable[..., None], *args: Any, timeout: float = 30.0) -> None:
    """Start ``target(*args, ready)`` in a spawned process, wait for it to set ``ready``, then
    SIGKILL it; the process never outlives the call, whatever happens."""
    with killed_after(target, *args, timeout=timeout):
        pass


@contextlib.contextmanager
def killed_after(target: Callable[..., None], *args: Any, timeout: float = 30.0) -> Iterator[None]:
    """Start ``target(*args, ready)`` in a spawned process and wait for it to set ``ready``;
    the block runs while it lives, and it is SIGKILLed when the block ends. The process never
    outlives the block, whatever happens."""
    context = multiprocessing.get_context("spawn")
    ready = context.Event()
    process = context.Process(target=target, args=(*args, ready))
    process.start()
    try:
        assert ready.wait(timeout), f"{target.__name__} did not get ready in {timeout} s"
        yield
        assert process.pid is not None
        os.kill(process.pid, signal.SIGKILL)
    finally:
        if process.is_alive():
            process.kill()
        process.join()
