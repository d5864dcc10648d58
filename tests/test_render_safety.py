"""render never loses a user's files (issue 23, items 1 and 4): a folder it did not render is refused, even
with overwrite=true; a set rendered with the same parameters is kept; one with other parameters is refused,
and with overwrite=true replaced only once the new one is complete. Likewise for sequences and previews."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from omegaconf import DictConfig, OmegaConf

import seaSky.render.dataset as dataset
from conftest import run_cli
from seaSky.errors import ConfigError
from seaSky.paths import CONFIG_DIR
from seaSky.render.__main__ import run
from seaSky.render.dataset import read_meta, temp_sibling, write_dataset
from seaSky.render.knobs import load_preset

TINY = ["width=40", "height=32", "workers=1", "progress=false"]


def render_cfg(out: Path, *overrides: str) -> DictConfig:
    """conf/render.yaml as the CLI composes it, tiny, into ``out``."""
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        return compose("render", overrides=[f"out_dir={out}", *TINY, *overrides])


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every file and folder under ``root`` (and ``root`` itself when a file), with the bytes of each file."""
    if root.is_file():
        return {".": root.read_bytes()}
    return {
        str(p.relative_to(root)): p.read_bytes() if p.is_file() else None for p in sorted(root.rglob("*"))
    }


def users_frames(root: Path) -> Path:
    """A user's labelled frames: images/, masks/ and notes, as render would write them but not by render."""
    for sub in ("images", "masks"):
        (root / sub).mkdir(parents=True)
        (root / sub / "f_001.png").write_bytes(b"not really a png " + sub.encode())
    (root / "meta.csv").write_text("stem\nf_001\n")
    (root / "notes.txt").write_text("three weeks of labelling\n")
    return root


@pytest.mark.parametrize("overwrite", [False, True])
@pytest.mark.parametrize("sequence", [False, True])
def test_a_users_folder_is_refused_and_untouched(tmp_path: Path, overwrite: bool, sequence: bool) -> None:
    mine = users_frames(tmp_path / "mine")
    (mine / "dataset.json").write_text('{"n": 1}')  # not seaSky's: no generator
    a_file = tmp_path / "frames.png"
    a_file.write_bytes(b"\x89PNG a user's file")
    before = {p: snapshot(p) for p in (mine, a_file)}
    listing = sorted(tmp_path.iterdir())
    for out in (mine, a_file):
        cfg = render_cfg(out, "n=2", f"overwrite={overwrite}", f"sequence={sequence}")
        with pytest.raises(ConfigError, match=str(out)):
            run(cfg)
        assert snapshot(out) == before[out]
    assert sorted(tmp_path.iterdir()) == listing  # no temp folder left beside them


def test_the_same_parameters_keep_the_set(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "set"
    run(render_cfg(out, "n=3"))
    assert "wrote 3 scenes" in capsys.readouterr().out
    before = snapshot(out)
    stamp = (out / "dataset.json").stat().st_mtime_ns
    run(render_cfg(out, "n=3"))
    said = capsys.readouterr().out
    assert "already rendered 3 scenes" in said and "kept" in said and "wrote" not in said
    assert snapshot(out) == before and (out / "dataset.json").stat().st_mtime_ns == stamp


def test_other_parameters_are_refused_then_replaced_with_overwrite(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "set"
    run(render_cfg(out, "n=6"))
    before = snapshot(out)
    with pytest.raises(ConfigError, match=r"n: 6 -> 3.*overwrite=true") as err:
        run(render_cfg(out, "n=3", "preset=hard"))
    assert str(out) in str(err.value) and "scene." in str(err.value)
    assert snapshot(out) == before
    capsys.readouterr()
    run(render_cfg(out, "n=3", "preset=hard", "overwrite=true"))
    assert "wrote 3 scenes" in capsys.readouterr().out
    info = json.loads((out / "dataset.json").read_text())
    assert info["n"] == 3 and info["scene"] == json.loads(json.dumps(load_preset("hard").to_dict()))
    assert sorted(p.name for p in (out / "images").iterdir()) == [f"syn_{i:06d}.png" for i in range(3)]
    assert len(list((out / "masks").iterdir())) == 3 and len(read_meta(out)) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["set"]  # the old set and the temp are gone


def test_a_set_with_a_users_file_in_it_is_never_replaced(tmp_path: Path) -> None:
    out = tmp_path / "set"
    write_dataset(out, n=2, width=40, height=32, workers=1, progress=False)
    (out / "my_labels.csv").write_text("stem,ok\n")
    before = snapshot(out)
    with pytest.raises(ConfigError, match="my_labels.csv"):
        run(render_cfg(out, "n=3", "overwrite=true"))
    assert snapshot(out) == before


def test_the_old_set_survives_a_failed_replacement(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "set"
    write_dataset(out, n=2, width=40, height=32, workers=1, progress=False)
    before = snapshot(out)

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(dataset, "_render_chunk", broken)
    with pytest.raises(OSError, match="disk full"):
        write_dataset(out, n=3, width=40, height=32, workers=1, progress=False, overwrite=True)
    assert snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["set"]


def test_the_cache_reuses_a_complete_set_and_clears_a_crashed_render(tmp_path: Path) -> None:
    out = tmp_path / "cache" / "40x32_16bit_n2_seed0_abc"
    ours = temp_sibling(out, "tmp")  # NAME.tmp-HOST-PID
    crashed = ours.with_name(ours.name.rsplit("-", 1)[0] + "-999999999")
    (crashed / "images").mkdir(parents=True)  # a render killed half way, by a process long gone
    write_dataset(out, n=2, width=40, height=32, workers=1, progress=False)
    assert sorted(p.name for p in out.parent.iterdir()) == [out.name]
    stamp = (out / "dataset.json").stat().st_mtime_ns
    write_dataset(out, n=2, width=40, height=32, workers=1, progress=False)  # the same: reused
    assert (out / "dataset.json").stat().st_mtime_ns == stamp
    partial = users_frames(tmp_path / "cache" / "other")  # no dataset.json: never deleted
    before = snapshot(partial)
    with pytest.raises(ConfigError, match="other"):
        write_dataset(partial, n=2, width=40, height=32, workers=1, progress=False)
    assert snapshot(partial) == before


def test_a_sequence_is_kept_refused_or_replaced_like_a_set(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "seq"
    run(render_cfg(out, "sequence=true", "n=3"))
    before = snapshot(out)
    capsys.readouterr()
    run(render_cfg(out, "sequence=true", "n=3"))
    assert "kept" in capsys.readouterr().out and snapshot(out) == before
    with pytest.raises(ConfigError, match=r"n: 3 -> 4.*overwrite=true"):
        run(render_cfg(out, "sequence=true", "n=4", "fps=10"))
    assert snapshot(out) == before
    run(render_cfg(out, "sequence=true", "n=4", "fps=10", "overwrite=true"))
    assert "wrote 4 frames" in capsys.readouterr().out
    assert json.loads((out / "sequence.json").read_text())["fps"] == 10
    assert len(list((out / "images").iterdir())) == 4 and len(read_meta(out)) == 4
    stills = tmp_path / "stills"
    write_dataset(stills, n=2, width=40, height=32, workers=1, progress=False)
    for there, other in ((stills, "sequence=true"), (out, "sequence=false")):
        kept = snapshot(there)
        with pytest.raises(ConfigError, match="that seaSky rendered, not"):
            run(render_cfg(there, other, "n=2", "overwrite=true"))
        assert snapshot(there) == kept
    assert sorted(p.name for p in tmp_path.iterdir()) == ["seq", "stills"]


def test_a_preview_replaces_only_its_own_file_and_only_with_overwrite(tmp_path: Path) -> None:
    sheet = tmp_path / "docs" / "preview.png"
    sheet.parent.mkdir()
    sheet.write_bytes(b"a picture the user made")
    for overwrite in ("false", "true"):  # not seaSky's: never replaced
        cfg = render_cfg(
            tmp_path / "out", "preview=true", "preview_n=2", f"preview_path={sheet}", f"overwrite={overwrite}"
        )
        with pytest.raises(ConfigError, match="preview_path=.* seaSky did not write it"):
            run(cfg)
    assert sheet.read_bytes() == b"a picture the user made"
    with pytest.raises(ConfigError, match="is a folder"):
        run(render_cfg(tmp_path / "out", "preview=true", f"preview_path={sheet.parent}", "overwrite=true"))
    mine = tmp_path / "sheets" / "preview.png"
    run(render_cfg(tmp_path / "out", "preview=true", "preview_n=2", f"preview_path={mine}"))
    first = mine.read_bytes()
    with pytest.raises(ConfigError, match="preview_path.*overwrite=true"):  # seaSky's own: with overwrite
        run(render_cfg(tmp_path / "out", "preview=true", "preview_n=2", f"preview_path={mine}"))
    assert mine.read_bytes() == first
    run(render_cfg(tmp_path / "out", "preview=true", "preview_n=3", f"preview_path={mine}", "overwrite=true"))
    assert mine.read_bytes().startswith(b"\x89PNG") and mine.read_bytes() != first


def test_a_set_can_follow_a_preview_into_the_same_folder(tmp_path: Path) -> None:
    out = tmp_path / "out"
    run(render_cfg(out, "preview=true", "preview_n=2"))
    sheet = (out / "preview.png").read_bytes()
    run(render_cfg(out, "n=2"))
    assert (out / "preview.png").read_bytes() == sheet and len(read_meta(out)) == 2
    assert (out / "dataset.json").is_file() and sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_stats_read_an_existing_set(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "set"
    write_dataset(out, n=3, width=40, height=32, workers=1, progress=False)
    images = snapshot(out / "images")
    run(render_cfg(out, "stats=true", "n=5"))  # reads the set as it is, renders nothing
    assert json.loads((out / "stats.json").read_text())["n"] == 3 and snapshot(out / "images") == images


def test_help_lists_every_render_option() -> None:
    conf = OmegaConf.load(CONFIG_DIR / "render.yaml")
    text = conf.hydra.help.template
    keys = [k for k in conf if k not in ("defaults", "hydra")]
    assert "overwrite" in keys
    for key in keys:
        assert f"{key}=" in text or f"{key}." in text, key
    for preset in (CONFIG_DIR / "preset").glob("*.yaml"):
        assert preset.stem in text
    assert "$CONFIG" not in text and "Configuration groups" not in text


def test_cli_refusal_is_one_line_with_exit_2(tmp_path: Path) -> None:
    out = tmp_path / "set"
    write_dataset(out, n=2, width=40, height=32, workers=1, progress=False)
    before = snapshot(out)
    done = run_cli("render", f"out_dir={out}", "n=3", *TINY, cwd=tmp_path, timeout=120)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and str(out) in lines[0] and "n: 2 -> 3" in lines[0]
    assert "wrote" not in done.stdout and snapshot(out) == before
