"""A PEP 517 build backend of the standard library alone.

The package is pure Python, and a backend from PyPI (setuptools with wheel, flit_core) is one more
download that an offline machine cannot make: with this one, ``pip install ./clients/python``
needs nothing but pip.
"""

from __future__ import annotations

import base64
import hashlib
import io
import tarfile
import tomllib
import zipfile
from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent
_PACKAGE = "gpumux"
# Fixed times keep builds of one tree byte-identical.
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def _project() -> dict:
    with open(_ROOT / "pyproject.toml", "rb") as file:
        return tomllib.load(file)["project"]


def _dist_name() -> str:
    project = _project()
    return f"{project['name']}-{project['version']}"


def _metadata() -> str:
    project = _project()
    lines = [
        "Metadata-Version: 2.1",
        f"Name: {project['name']}",
        f"Version: {project['version']}",
        f"Summary: {project['description']}",
        f"Requires-Python: {project['requires-python']}",
    ]
    lines += [f"Classifier: {classifier}" for classifier in project.get("classifiers", [])]
    for extra, requirements in project.get("optional-dependencies", {}).items():
        lines.append(f"Provides-Extra: {extra}")
        lines += [f'Requires-Dist: {requirement}; extra == "{extra}"' for requirement in requirements]
    lines.append("Description-Content-Type: text/markdown")
    return "\n".join(lines) + "\n\n" + (_ROOT / project["readme"]).read_text(encoding="utf-8")


def _package_files() -> list[Path]:
    return sorted(
        path for path in (_ROOT / _PACKAGE).rglob("*") if path.is_file() and "__pycache__" not in path.parts and path.suffix in (".py", ".typed")
    )


def _write_wheel(directory: str, contents: dict[str, bytes]) -> str:
    dist_info = f"{_dist_name()}.dist-info"
    contents[f"{dist_info}/METADATA"] = _metadata().encode("utf-8")
    contents[f"{dist_info}/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: gpumux_build\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    record = []
    for name, data in contents.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode("ascii")
        record.append(f"{name},sha256={digest},{len(data)}")
    record.append(f"{dist_info}/RECORD,,")
    contents[f"{dist_info}/RECORD"] = ("\n".join(record) + "\n").encode("utf-8")
    wheel_name = f"{_dist_name()}-py3-none-any.whl"
    with zipfile.ZipFile(Path(directory) / wheel_name, "w", zipfile.ZIP_DEFLATED) as wheel:
        for name, data in contents.items():
            entry = zipfile.ZipInfo(name, _ZIP_TIME)
            entry.external_attr = 0o644 << 16
            wheel.writestr(entry, data, zipfile.ZIP_DEFLATED)
    return wheel_name


def build_wheel(wheel_directory: str, config_settings: dict | None = None, metadata_directory: str | None = None) -> str:
    return _write_wheel(wheel_directory, {path.relative_to(_ROOT).as_posix(): path.read_bytes() for path in _package_files()})


def build_editable(wheel_directory: str, config_settings: dict | None = None, metadata_directory: str | None = None) -> str:
    # PEP 660: a .pth file that puts this tree on sys.path.
    return _write_wheel(wheel_directory, {f"{_PACKAGE}_editable.pth": f"{_ROOT}\n".encode("utf-8")})


def build_sdist(sdist_directory: str, config_settings: dict | None = None) -> str:
    name = _dist_name()
    files = [_ROOT / "pyproject.toml", _ROOT / _project()["readme"], Path(__file__).resolve(), *_package_files()]
    archive = f"{name}.tar.gz"
    with tarfile.open(Path(sdist_directory) / archive, "w:gz", format=tarfile.PAX_FORMAT) as sdist:
        for path in files:
            data = path.read_bytes()
            entry = tarfile.TarInfo(f"{name}/{path.relative_to(_ROOT).as_posix()}")
            entry.size, entry.mode, entry.mtime = len(data), 0o644, 0
            sdist.addfile(entry, io.BytesIO(data))
        metadata = _metadata().encode("utf-8")
        entry = tarfile.TarInfo(f"{name}/PKG-INFO")
        entry.size, entry.mode, entry.mtime = len(metadata), 0o644, 0
        sdist.addfile(entry, io.BytesIO(metadata))
    return archive
