"""Where project files are read from: the working tree, or (for `diff`) a git revision.

Loaders take a Tree rather than paths so that the same validation runs on any revision.
"""

from __future__ import annotations

import contextlib
import os
import stat
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Protocol

from mailoauth.base.problems import InvalidInput, Problem

MAX_FILE_BYTES = 4 * 1024 * 1024  # a project file (stack, catalogue, scope set, policy) larger than this is refused


class Tree(Protocol):
    label: str

    def read_text(self, path: str) -> str | None:
        """The file's text, or None when it does not exist."""

    def list_dir(self, path: str) -> list[str]:
        """File names directly under `path` (empty when it does not exist)."""


class WorkTree:
    """The project directory on disk."""

    def __init__(self, root: Path | str):
        self.root = Path(root)
        self.label = "working tree"
        self._real_root = self.root.resolve()

    def read_text(self, path: str) -> str | None:
        """The file's text; InvalidInput (not a traceback) when it is a folder, a FIFO or device, larger
        than MAX_FILE_BYTES, unreadable or not UTF-8. A symlink is followed within the project only: a
        pull request's link to a file elsewhere on the machine must not get that file quoted in a report."""
        file = self.root / path
        if file.is_symlink() and not file.resolve().is_relative_to(self._real_root):
            raise _unreadable(path, "is a link to a file outside the project", "copy the file into the project")
        try:
            data = _read_regular(file, path)
        except (FileNotFoundError, NotADirectoryError):
            return None
        except PermissionError:
            raise _unreadable(path, "cannot be read (permission denied)", "make the file readable") from None
        except IsADirectoryError:
            raise _unreadable(path, "is a folder, not a file", "remove or rename the folder") from None
        except OSError as exc:
            raise _unreadable(path, f"cannot be read ({exc.strerror or exc})", "check the file") from None
        return _decode(path, data)

    def list_dir(self, path: str) -> list[str]:
        folder = self.root / path
        # not only regular files: a FIFO or device named like a stack is then refused by read_text, not skipped
        return sorted(p.name for p in folder.iterdir() if not p.is_dir()) if folder.is_dir() else []


def find_project_root(start: Path | str = ".") -> Path:
    """The nearest directory at or above `start` that holds Pulumi.yaml (else `start` itself)."""
    here = Path(start).resolve()
    for folder in (here, *here.parents):
        if (folder / "Pulumi.yaml").is_file():
            return folder
    return here


def _read_regular(file: Path, path: str) -> bytes:
    """At most MAX_FILE_BYTES of a regular file. Opened without blocking and checked with fstat before
    reading, so a FIFO cannot hang the command and a link to /dev/zero cannot fill the memory."""
    fd = os.open(file, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError(path)
        raise _unreadable(path, "is not a regular file (a FIFO, socket or device)", "replace it with a file")
    try:
        data = _read_capped(fd, info.st_size)
    finally:
        os.close(fd)
    if len(data) > MAX_FILE_BYTES:
        raise too_large(path, max(info.st_size, len(data)))
    return data


def _read_capped(fd: int, expected: int) -> bytes:
    """The file's bytes up to one past MAX_FILE_BYTES: first as much as fstat said it holds (and one more,
    to see the end), then in small steps should it have grown since."""
    parts, size, want = [], 0, min(expected, MAX_FILE_BYTES) + 1
    while size <= MAX_FILE_BYTES:
        chunk = os.read(fd, want)
        if not chunk:
            break
        parts.append(chunk)
        size += len(chunk)
        want = 1 << 16
    return b"".join(parts)


def too_large(path: str, size: int) -> InvalidInput:
    return _unreadable(
        path, f"is {size:,} bytes; project files may be at most {MAX_FILE_BYTES:,}", "split it or remove repetition"
    )


def _decode(path: str, data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _not_utf8(path, exc) from None


def _unreadable(path: str, why: str, fix: str, line: int | None = None) -> InvalidInput:
    return InvalidInput([Problem(path, (), f"the file {why}", hint=fix, line=line)])


def _not_utf8(path: str, exc: UnicodeDecodeError) -> InvalidInput:
    line = exc.object[: exc.start].count(b"\n") + 1
    return _unreadable(path, f"is not UTF-8 text (byte {exc.object[exc.start]:#04x})", "save it as UTF-8", line)


class RevisionError(ValueError):
    """A revision that cannot be read: an unknown name, no git repository, or no git at all."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.hint = hint


Object = tuple[str, str, bytes | int]  # a git object: oid, type, content (or its size when too large)


class GitTree:
    """The project's files as they are at one git revision, read through one `git cat-file --batch`.

    Listing a folder fetches all its files in the same round trip, so loading every stack costs one
    pipelined exchange with a single git process rather than a process per file.
    """

    BATCH_BYTES = 8192  # requests written before reading answers: far below a pipe's buffer, so no deadlock

    def __init__(self, root: Path | str, rev: str, side: str = "base"):
        if not rev or rev != rev.strip() or "\n" in rev:
            raise RevisionError(f"unknown revision {rev!r}")
        self.root, self.rev, self.label = Path(root), rev, f"{side} {rev}"
        self._files: dict[str, bytes | int | None] = {}  # int: the size of a blob too large to read
        self._links: set[str] = set()
        self._dirs: dict[str, list[str]] = {}
        import subprocess  # here, not at the top: only a git revision needs it, so `plan` starts without it

        try:
            self._git = subprocess.Popen(
                ["git", "-C", str(self.root), "cat-file", "--batch"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
        except FileNotFoundError:
            raise RevisionError("git is not installed", "mailoauth diff reads revisions through git") from None
        try:
            found = self._fetch([f"{rev}^{{commit}}"])[0]
        except RevisionError:
            self.close()
            raise
        if found is None:
            self.close()
            raise RevisionError(
                f"unknown revision '{rev}'",
                f"check the name with `git rev-parse --verify {rev}`; a shallow clone needs it fetched first "
                "(actions/checkout with fetch-depth: 0)",
            )
        self.commit, _, body = found
        try:
            if isinstance(body, int):  # a commit object beyond MAX_FILE_BYTES: not one git itself would write
                raise RevisionError(f"the commit object of '{rev}' is {body:,} bytes")
            self.commit_date = _committer_date(body)
        except RevisionError:
            self.close()
            raise
        self._hash_bytes = len(self.commit) // 2

    def __enter__(self) -> GitTree:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._git.stdin and not self._git.stdin.closed:
            with contextlib.suppress(BrokenPipeError):  # git exited; its error was raised when an answer was missing
                self._git.stdin.close()
        self._git.wait()
        for pipe in (self._git.stdout, self._git.stderr):
            if pipe:
                pipe.close()

    def read_text(self, path: str) -> str | None:
        if path in self._links:
            raise _unreadable(path, f"is a symbolic link at {self.rev}", "commit the file itself, not a link to it")
        if path not in self._files:
            found = self._fetch([f"{self.commit}:./{path}"])[0]
            self._files[path] = found[2] if found and found[1] == "blob" else None
        data = self._files[path]
        if data is None:
            return None
        if isinstance(data, int):
            raise too_large(path, data)
        return _decode(path, data)

    def list_dir(self, path: str) -> list[str]:
        if path not in self._dirs:  # a revision never changes, so each folder is listed once
            found = self._fetch([f"{self.commit}:./{path}"])[0]
            data = found[2] if found and found[1] == "tree" else b""
            if isinstance(data, int):
                raise too_large(path, data)
            files, links = self._tree_files(data)
            self._links.update(f"{path}/{name}" for name in links)
            wanted = [name for name in files if f"{path}/{name}" not in self._files]
            for name, blob in zip(wanted, self._fetch([files[name] for name in wanted]), strict=True):
                self._files[f"{path}/{name}"] = blob[2] if blob else None
            self._dirs[path] = sorted([*files, *links])
        return list(self._dirs[path])

    def _tree_files(self, data: bytes) -> tuple[dict[str, str], list[str]]:
        """Regular files of a raw tree object (entries: mode SP name NUL binary-oid) as name -> blob oid,
        and the names of its symbolic links (listed, so that reading one is refused rather than skipped)."""
        files, links, at = {}, [], 0
        while at < len(data):
            space = data.index(b" ", at)
            nul = data.index(b"\0", space)
            end = nul + 1 + self._hash_bytes
            name = data[space + 1 : nul].decode("utf-8", "surrogateescape")
            if data[at:space] in (b"100644", b"100755"):
                files[name] = data[nul + 1 : end].hex()
            elif data[at:space] == b"120000":
                links.append(name)
            at = end
        return files, links

    def _fetch(self, names: list[str]) -> list[Object | None]:
        """(oid, type, content) of each object name, None when missing; requests are pipelined in batches."""
        out: list[Object | None] = []
        start = 0
        while start < len(names):
            end, size = start, 0
            while end < len(names) and (end == start or size + len(names[end]) < self.BATCH_BYTES):
                size += len(names[end]) + 1
                end += 1
            out += self._exchange(names[start:end])
            start = end
        return out

    def _exchange(self, names: list[str]) -> list[Object | None]:
        """Ask git for each name; one request and one answer per line, so a name holding a newline (which
        git would read as two requests) is answered as missing without being sent."""
        stdin, stdout = self._git.stdin, self._git.stdout
        assert stdin is not None and stdout is not None
        sent = [n for n in names if "\n" not in n]
        with contextlib.suppress(BrokenPipeError):  # git has exited; the read below reports why
            stdin.write("".join(f"{n}\n" for n in sent).encode("utf-8", "surrogateescape"))
            stdin.flush()
        answers = iter([self._answer(stdout) for _ in sent])
        return [next(answers) if "\n" not in n else None for n in names]

    def _answer(self, stdout: Any) -> Object | None:
        """One reply: '<oid> <type> <size>' and the content, or '<name> missing' (the name may hold spaces)."""
        header = stdout.readline()
        if not header:
            raise RevisionError(self._git_error())
        if header.rstrip(b"\n").endswith((b" missing", b" ambiguous")):
            return None
        oid, kind, size = header.split()
        if int(size) > MAX_FILE_BYTES:
            _skip(stdout, int(size) + 1)
            return (oid.decode(), kind.decode(), int(size))
        content = stdout.read(int(size) + 1)[:-1]  # the object, then a newline
        return (oid.decode(), kind.decode(), content)

    def _git_error(self) -> str:
        self._git.wait()
        detail = self._git.stderr.read().decode(errors="replace").strip() if self._git.stderr else ""
        return f"cannot read revision '{self.rev}' in {self.root}: {detail or 'git exited'}"


def _skip(stream: Any, size: int) -> None:
    """Read past `size` bytes of git's answer without keeping them."""
    while size > 0:
        chunk = stream.read(min(size, 1 << 20))
        if not chunk:
            return  # git exited; the next answer reports it
        size -= len(chunk)


def _committer_date(commit: bytes) -> date:
    """The UTC day of a raw commit's committer timestamp ('committer Name <mail> 1700000000 +0100')."""
    for line in commit.split(b"\n"):
        if line.startswith(b"committer "):
            stamp = line.rsplit(b" ", 2)[-2]
            try:
                return datetime.fromtimestamp(int(stamp), timezone.utc).date()
            except (ValueError, OverflowError, OSError):
                shown = stamp[:40].decode("utf-8", "replace")
                raise RevisionError(f"the commit's committer timestamp '{shown}' is not a date") from None
        if not line:
            break
    raise RevisionError("commit without a committer line")
