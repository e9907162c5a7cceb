"""Step-by-step progress on the terminal: numbered steps, one line per item, elapsed time."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    def __init__(self, total_steps: int, out: TextIO | None = None) -> None:
        self.total = total_steps
        self.out = out or sys.stdout
        self.step_number = 0
        self.started = time.monotonic()

    def step(self, title: str) -> None:
        self.step_number += 1
        print(file=self.out)
        self.say(f"[{self.step_number}/{self.total}] {title}")

    def item(self, text: str) -> None:
        self.say(f"    {text}")

    def ok(self, text: str) -> None:
        self.say(f"  ok {text}")

    def fail(self, text: str) -> None:
        self.say(f"  FAILED {text}")

    def say(self, text: str) -> None:
        elapsed = time.monotonic() - self.started
        print(f"{elapsed:7.1f}s {text}", file=self.out, flush=True)
