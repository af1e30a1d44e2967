"""One fine-tune at a time, across the processes sharing ``DATA_DIR``: an exclusive lock on a file
that also says who holds it and since when."""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path
from typing import IO

from coderank.coordination.base import Holder


class FineTuneGate:
    """``try_enter`` returns None when the caller may start, else who is running one."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[str] | None = None

    def try_enter(self, *, by: str, now: str) -> Holder | None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        f = self.path.open("a+")
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            try:
                holder = Holder(**json.loads(f.read() or "{}"))
            except (TypeError, ValueError):
                holder = Holder(by="someone", since="just now")
            f.close()
            return holder
        f.seek(0)
        f.truncate()
        f.write(json.dumps({"by": by, "since": now}))
        f.flush()
        os.fsync(f.fileno())
        self._file = f
        return None

    def leave(self) -> None:
        if self._file is not None:
            self._file.truncate(0)
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None
