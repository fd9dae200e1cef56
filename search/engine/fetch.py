"""Fetching MNIST: the four standard `.gz` files, from the public mirrors, hash-checked.

The files are pinned by the SHA-256 of their *decompressed* content, so a mirror that
re-compressed them is accepted and a wrong or truncated file is not. Each file is downloaded with
pooch's HTTP downloader into a staging folder beside its destination, checked, and only then moved
into `<data root>/MNIST/raw/`; on any failure the staging folder goes and nothing is left behind.
`$MNIST_MIRROR` (one base URL) replaces the mirror list; `$MNIST_OFFLINE=1` (or `--offline`)
never fetches. No torch here: `python -m search.data fetch` is this module's command.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import os
import shutil
import sys
import tempfile
import zlib
from collections.abc import Callable
from pathlib import Path

from search.errors import UsageError

# file name -> SHA-256 of the decompressed idx content (measured on ../shared/data, 2026-11).
SHA256 = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
# The public mirrors torchvision uses, tried in order; their .gz files have MD5s
# f68b3c2d..., d53e105e..., 9fb629c4..., ec29112d... (same order as SHA256).
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)
DEFAULT_TIMEOUT_SECONDS = 30.0  # per connection attempt and per silent read
CHUNK_BYTES = 1 << 16


class FetchError(UsageError):
    """A file could not be fetched from any mirror; the message names the file and each cause."""


def mirrors() -> tuple[str, ...]:
    """$MNIST_MIRROR alone when set, else the public mirrors."""
    mirror = os.environ.get("MNIST_MIRROR", "").strip()
    return (mirror,) if mirror else MIRRORS


def offline_requested(offline: bool | None = None) -> bool:
    if offline is not None:
        return offline
    return os.environ.get("MNIST_OFFLINE", "").strip().lower() in ("1", "true", "yes")


def timeout_seconds() -> float:
    text = os.environ.get("MNIST_FETCH_TIMEOUT", "")
    try:
        return float(text) if text else DEFAULT_TIMEOUT_SECONDS
    except ValueError:
        raise UsageError(f"MNIST_FETCH_TIMEOUT must be seconds, got {text!r}") from None


def content_sha256_bytes(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def content_sha256(gz_path: Path) -> str:
    """SHA-256 of the decompressed content; raises ValueError when it is not a whole gzip."""
    try:
        return content_sha256_bytes(gzip.decompress(gz_path.read_bytes()))
    except (EOFError, zlib.error, gzip.BadGzipFile) as error:
        raise ValueError(f"not a complete gzip file ({error})") from None


def fetch_missing(
    raw: Path, names: list[str], say: Callable[[str], None] | None = None
) -> list[Path]:
    """Fetch each of `names` (idx file names, without .gz) into `raw`; returns the paths."""
    say = say or _stderr
    sources = mirrors()
    progress = sys.stderr.isatty()
    created = [folder for folder in (raw, *raw.parents) if not folder.exists()]
    try:
        raw.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise FetchError(f"cannot create {raw} for MNIST: {error.strerror or error}") from None
    try:
        return [_fetch_one(raw, name, sources, progress, say) for name in names]
    except BaseException:
        for folder in created:  # deepest first; only what this call made, and only if empty
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise


def _fetch_one(raw: Path, name: str, sources, progress: bool, say) -> Path:
    target = raw / f"{name}.gz"
    causes = []
    for base in sources:
        url = base.rstrip("/") + f"/{name}.gz"
        if progress:
            say(f"fetching {name}.gz from {url}")
        try:
            staged_size = _download_checked(url, raw, target, name, progress)
        except _Failed as failure:
            causes.append(f"{url}: {failure}")
            continue
        say(f"fetched {target} ({staged_size / 1e6:.1f} MB from {url}, content SHA-256 ok)")
        return target
    raise FetchError(
        f"cannot fetch MNIST file {name}.gz: "
        + "; ".join(causes)
        + "; set MNIST_MIRROR to a reachable mirror, or copy the file there yourself"
    )


class _Failed(Exception):
    """One mirror's failure for one file (the next mirror is tried)."""


def _download_checked(url: str, raw: Path, target: Path, name: str, progress: bool) -> int:
    import pooch  # imported here: only a fetch needs it (and requests)
    import requests

    staging = Path(tempfile.mkdtemp(prefix=".fetch-", dir=raw))
    try:
        staged = staging / f"{name}.gz"
        downloader = pooch.HTTPDownloader(
            progressbar=progress, chunk_size=CHUNK_BYTES, timeout=timeout_seconds()
        )
        try:
            downloader(url, str(staged), None)
        except requests.HTTPError as error:
            raise _Failed(f"HTTP {error.response.status_code}") from None
        except requests.Timeout:
            raise _Failed(f"no answer within {timeout_seconds():g} s (timeout)") from None
        except requests.RequestException as error:
            raise _Failed(_cause(error)) from None
        except OSError as error:  # disk full, permission: the next mirror would fail alike
            raise FetchError(
                f"cannot write {target}: {error.strerror or error}; nothing was kept"
            ) from None
        try:
            digest = content_sha256(staged)
        except ValueError as error:
            raise _Failed(f"truncated or corrupt: {error}") from None
        if digest != SHA256[name]:
            raise _Failed(
                f"content SHA-256 {digest[:12]}... is not the pinned {SHA256[name][:12]}..."
            )
        size = staged.stat().st_size
        os.replace(staged, target)  # same folder tree, so atomic
        return size
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _cause(error: Exception) -> str:
    """The innermost useful words of a requests error, on one line."""
    text = " ".join((str(error) or str(error.__context__)).split())
    if "IncompleteRead" in text or "Connection broken" in text:
        return f"connection broken before the whole file arrived ({text[:120]})"
    if "Connection refused" in text or "NewConnectionError" in text:
        return "connection refused or host unreachable"
    return text[:200]


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
