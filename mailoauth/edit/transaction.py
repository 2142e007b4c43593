"""One edit of a project file, safe against concurrent runs and odd files.

`secrets rotate`/`retire`, `adopt` and `scopes sync --write` all change a file the same way:

    with Transaction(root, "stacks/Pulumi.dev.yaml") as tx:  # waits for other runs editing stacks/
        stack = load_stack(...)                                 # validated, under the lock
        source = tx.read()                                      # the exact text
        text = ...                                              # edit, rebuild, compare: rtyaml.round_trip_edit
        tx.replace(text)                                        # only if the file still reads as `source`

- Runs are serialised by an exclusive lock (flock) on the folder the project names the file in,
  taken before anything is read, so a second `secrets rotate` of the same file waits and then starts
  from the first one's result instead of overwriting it. A writer that takes no lock (an editor) is
  caught by comparing the file with what was read just before replacing it: the edit is refused.
- A symlinked file is followed: its target is edited and the link stays a link.
- A read-only file is refused; a folder that cannot be written, a read-only file system or a full
  disk become an error naming the file (exit 2) and leave the file as it was.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
import time
from pathlib import Path

from mailoauth.base.problems import InvalidInput, Problem
from mailoauth.base.tree import MAX_FILE_BYTES

try:
    import fcntl
except ImportError:  # Windows: no flock; the compare-before-replace check still refuses a lost update
    fcntl = None  # type: ignore[assignment]

LOCK_WAIT_SECONDS = 60.0
NO_SPACE = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


class Transaction:
    """An exclusive, all-or-nothing edit of one file under the project root."""

    def __init__(self, root: Path, file: str):
        self.file = file  # as shown to the user: stacks/Pulumi.dev.yaml
        self.path = Path(root) / file
        self.target = self.path
        self._lock_fd: int | None = None
        self._source: bytes | None = None

    def __enter__(self) -> Transaction:
        self._lock_fd = _lock(self.path.parent, self.file)  # the folder the project names, not a link's target's
        return self

    def __exit__(self, *exc: object) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing releases the flock
            self._lock_fd = None

    def read(self) -> str:
        """The file's exact text (line endings kept), remembered for the check before replacing it."""
        self.target = self._resolve()
        data, mode = self._read_bytes()
        if not mode & 0o222 or not os.access(self.target, os.W_OK):
            raise self._refused("the file is read-only", "make it writable (chmod u+w) if it is meant to change")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise self._refused("the file is not UTF-8 text", "save it as UTF-8") from None
        self._source = data
        return text

    def replace(self, text: str) -> None:
        """Write `text` in one step, if the file still holds what `read` returned."""
        assert self._source is not None, "read() first"
        if self._read_bytes()[0] != self._source:
            raise self._refused(
                "the file changed while this command was editing it", "run the command again on the new content"
            )
        try:
            _write_atomic(self.target, text.encode("utf-8"))
        except OSError as exc:
            raise self._refused(_write_error(exc, self.target.parent), "fix that, then run the command again") from None

    def _resolve(self) -> Path:
        """The file to edit: a symlink's target (so the link stays a link), which must exist."""
        try:
            target = self.path.resolve(strict=True)
        except FileNotFoundError:
            raise self._refused("the file does not exist (or is a link to nothing)", "check the name") from None
        except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop on older Pythons
            raise self._refused(f"the file cannot be opened ({exc})", "check the link") from None
        return target

    def _read_bytes(self) -> tuple[bytes, int]:
        try:
            fd = os.open(self.target, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
        except OSError as exc:
            raise self._refused(f"the file cannot be read ({exc.strerror})", "check it") from None
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise self._refused("the file is not a regular file", "replace it with a file")
            data = handle.read(MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:
            raise self._refused(f"the file is larger than {MAX_FILE_BYTES:,} bytes", "split it")
        return data, info.st_mode

    def _refused(self, why: str, hint: str) -> InvalidInput:
        shown = self.file if self.target == self.path else f"{self.file} (link to {self.target})"
        return InvalidInput([Problem(shown, (), f"{why}; the file was not changed", hint=hint)])


def _lock(folder: Path, file: str) -> int | None:
    """An exclusive flock on `folder`, waiting up to LOCK_WAIT_SECONDS for another run to finish."""
    if fcntl is None:
        return None
    fd = os.open(folder, os.O_RDONLY)
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            if time.monotonic() > deadline:
                os.close(fd)
                why = f"another mailoauth run has been editing files in {folder.name}/ for {LOCK_WAIT_SECONDS:.0f} s"
                raise InvalidInput([Problem(file, (), why, hint="wait for it to finish, then run again")]) from None
            time.sleep(0.05)


def _write_atomic(path: Path, data: bytes) -> None:
    """A temporary file in the same folder, flushed to disk, given the old file's mode, then renamed over
    it: a reader (or a crash) sees the old file or the new one, never half of either."""
    mode = path.stat().st_mode & 0o7777
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _sync_folder(path.parent)


def _sync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems cannot sync a folder; the rename itself is already atomic
    finally:
        os.close(fd)


def _write_error(exc: OSError, folder: Path) -> str:
    if exc.errno in NO_SPACE:
        return "there is no space left to write it"
    if exc.errno == errno.EROFS:
        return "it is on a read-only file system"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return f"the folder {folder} cannot be written (permission denied)"
    return f"it cannot be written ({exc.strerror or exc})"
