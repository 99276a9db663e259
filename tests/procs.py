"""Child processes in tests: each one ends reaped with its pipes closed, so a test leaves no open file behind."""
from __future__ import annotations

import subprocess


def reap(proc: subprocess.Popen, timeout: float | None = 30) -> int:
    """Wait for `proc` (killed after `timeout` seconds) and close its pipes; its exit status."""
    try:
        try:
            return proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            return proc.wait()
    finally:
        for pipe in (proc.stdin, proc.stdout, proc.stderr):
            if pipe is not None:
                try:
                    pipe.close()
                except OSError:                 # a write left in its buffer to a child that is gone
                    pass
