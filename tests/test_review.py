"""The review page (seaSky.review): suspect frames found in hand-made series, the page of each kind of run
(a predict sequence, predict's still frames, evaluate, check_footage), the hooks of predict (review=false
skips it), refusing a user's review.html, and the page in headless chromium (plot drawn, no console errors,
a click on the timeline seeks the video)."""

from __future__ import annotations

import base64
import json
import math
import re
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from browser import console_errors
from conftest import run_cli, write_scene
from seaSky.errors import ConfigError, DataError
from seaSky.io import record_outputs, recorded_outputs, write_csv
from seaSky.review import (
    PAGE,
    PREVIEW,
    ReviewSettings,
    check_review,
    envelope,
    most_severe,
    positional_run_dir,
    review_after_run,
    run_kinds,
    suspect_events,
    suspect_frames,
    write_review,
)
from seaSky.sequence import SEQUENCE_COLUMNS
from seaSky.video import VideoWriter

H, W, N, FPS = 48, 64, 30, 10.0
JUMP_AT, LOW_AT, LOST = 10, 16, range(22, 26)  # the hand-made sequence's suspect frames


def _figures(page: str) -> dict:
    """The plotly figures embedded in a review page (div id -> figure)."""
    found = re.search(r"const FIGURES = (\{.*?\});\n", page, re.S)
    assert found, "no figures in the page"
    return json.loads(found.group(1).replace("<\\/", "</"))


def _values(data: object) -> list:
    """A figure's array: a list as is, or plotly's typed array ({"dtype", "bdata": base64}) decoded."""
    if isinstance(data, dict):
        return np.frombuffer(base64.b64decode(data["bdata"]), np.dtype(data["dtype"])).tolist()
    return list(data)


def _sequence_rows() -> list[dict]:
    """horizon.csv rows of a 30-frame sequence: a steady horizon at 20 px, a 9 px jump at frame 10, a weak
    fit at 16, no fit and the tracker lost at 22-25."""
    rows = []
    for i in range(N):
        y = 20.0 + (9.0 if i >= JUMP_AT else 0.0)
        conf = 0.2 if i == LOW_AT else 0.9
        state = "lost" if i in LOST else ("acquiring" if i < 3 else "tracking")
        raw = i not in LOST
        cell = (lambda v, d: f"{v:.{d}f}") if raw else (lambda v, d: "")
        tracked = (lambda v, d: f"{v:.{d}f}") if state != "lost" else (lambda v, d: "")
        rows.append({
            "frame": i, "timestamp_s": f"{i / FPS:.4f}", "name": f"{i:06d}",
            "y_left": cell(y, 2), "y_right": cell(y, 2), "angle_deg": cell(0.0, 3),
            "confidence": cell(conf, 3), "tracked_y_left": tracked(y, 2), "tracked_y_right": tracked(y, 2),
            "tracked_angle_deg": tracked(0, 3), "tracked_confidence": tracked(conf, 3), "state": state,
        })  # fmt: skip
    return rows


def _overlay_frame(i: int) -> np.ndarray:
    """BGR overlay-like frame: sky grey above the horizon of _sequence_rows, sea blue below, frame number
    as bright bars (so that frames differ)."""
    y = 20 + (9 if i >= JUMP_AT else 0)
    frame = np.full((H, W, 3), 170, np.uint8)
    frame[y:] = (160, 60, 20)
    frame[2:6, 2 : 2 + 2 * i] = 255
    return frame


@pytest.fixture
def sequence_run(tmp_path: Path) -> Path:
    """A predict sequence run dir made by hand: horizon.csv and overlay.mp4 (mp4v, as predict writes it)."""
    out = tmp_path / "seq"
    record_outputs(out, ["horizon.csv", "overlay.mp4"])
    write_csv(out / "horizon.csv", _sequence_rows(), SEQUENCE_COLUMNS)
    with VideoWriter(out / "overlay.mp4", FPS) as writer:
        for i in range(N):
            writer.write(_overlay_frame(i))
    return out


def test_suspect_frames_jumps_low_confidence_and_lost() -> None:
    rows = _sequence_rows()
    centre = np.array([float(r["y_left"]) if r["y_left"] else np.nan for r in rows])
    conf = np.array([float(r["confidence"]) if r["confidence"] else np.nan for r in rows])
    states = [r["state"] for r in rows]
    kinds = suspect_frames(centre, conf, states, jump_px=5.0, low_confidence=0.5)
    expected = {JUMP_AT: "jump", LOW_AT: "low confidence", **{i: "lost" for i in LOST}}
    assert {i: k for i, k in enumerate(kinds) if k} == expected
    events = suspect_events(kinds, centre, conf, FPS)
    assert [(e.kind, e.start, e.end, e.at) for e in events] == [
        ("jump", 10, 10, 10), ("low confidence", 16, 16, 16), ("lost", 22, 25, 22)
    ]  # fmt: skip
    assert events[0].detail == "jump 9.0 px" and events[2].detail == "lost for 4 frames (0.4 s)"
    # a tracker reset is a jump; a fit missing while the tracker holds a line is low confidence
    kinds = suspect_frames(np.array([1.0, np.nan, 1.0]), np.array([0.9, np.nan, 0.9]),
                           ["tracking", "coasting", "reset"], 5.0, 0.5)  # fmt: skip
    assert list(kinds) == ["", "low confidence", "jump"]
    assert not any(suspect_frames(centre, conf, states, jump_px=10.0, low_confidence=0.1)[:22])
    # most_severe shows every kind before the second of any
    assert [e.kind for e in most_severe(events * 3, 3)] == ["jump", "low confidence", "lost"]


def test_envelope_keeps_every_spike_of_a_long_series() -> None:
    values = np.sin(np.arange(100_000) / 500.0)
    values[[1234, 77_777]] = [50.0, -50.0]
    values[40_000:40_100] = np.nan
    keep = envelope(values, max_points=2_000)
    assert len(keep) <= 2_200 and {1234, 77_777} <= set(keep.tolist())
    assert np.isnan(values[keep]).any()  # the gap stays a gap
    assert envelope(values[:500], max_points=2_000).tolist() == list(range(500))


def test_sequence_page_holds_the_timeline_video_and_suspect_frames(sequence_run: Path) -> None:
    assert run_kinds(sequence_run) == ["video"]
    path = write_review(sequence_run)
    page = path.read_text()
    assert path == sequence_run / PAGE and {PAGE, PREVIEW} <= recorded_outputs(sequence_run)
    assert "Plotly.newPlot" in page and "https://" not in page.split("</script>", 1)[1]  # nothing fetched
    timeline = _figures(page)["timeline"]
    names = [trace.get("name") for trace in timeline["data"]]
    assert {"fitted height", "tracked height", "confidence", "tracker state", "jump", "lost"} <= set(names)
    kinds = ("jump", "low confidence", "lost")
    marked = {t["name"]: _values(t["customdata"]) for t in timeline["data"] if t["name"] in kinds}
    assert marked == {"jump": [JUMP_AT], "low confidence": [LOW_AT], "lost": [LOST[0]]}
    # the thumbnails of the suspect frames are taken from the overlay video at their positions
    cards = re.findall(r'data-pos="(\d+)"[^>]*><img alt="[^"]*" src="data:image/jpeg;base64,([^"]+)"', page)
    assert [int(pos) for pos, _ in cards] == [JUMP_AT, LOW_AT, LOST[0]]
    thumb = cv2.imdecode(np.frombuffer(base64.b64decode(cards[0][1]), np.uint8), cv2.IMREAD_COLOR)
    assert thumb.shape == (H, W, 3)
    assert abs(int(thumb[5, 2 + 2 * JUMP_AT - 3].mean()) - 255) < 60  # frame 10's bar reaches x = 22
    assert int(thumb[5, 2 + 2 * JUMP_AT + 6].mean()) < 200  # and no further
    # the preview video is a browser-playable VP8 WebM, small enough to be embedded
    video = re.search(r'<video id="overlay-video"[^>]* src="data:video/webm;base64,([^"]+)"', page)
    assert video and not (sequence_run / PREVIEW).exists()
    preview = sequence_run / "preview-check.webm"
    preview.write_bytes(base64.b64decode(video.group(1)))
    capture = cv2.VideoCapture(str(preview))
    assert capture.get(cv2.CAP_PROP_FPS) == pytest.approx(FPS)  # video_fps 10: every frame of a 10 fps video
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) in (N, N - 1, N + 1)
    capture.release()
    assert not list(sequence_run.glob(".*partial*")) and not list(sequence_run.glob(".*.tmp"))


def test_a_long_preview_goes_beside_the_page_and_a_second_review_replaces_the_first(
    sequence_run: Path,
) -> None:
    write_review(sequence_run, ReviewSettings(embed_video_mb=0.0, video_fps=5.0))
    page = (sequence_run / PAGE).read_text()
    assert f'src="{PREVIEW}"' in page and (sequence_run / PREVIEW).stat().st_size > 0
    capture = cv2.VideoCapture(str(sequence_run / PREVIEW))
    assert capture.get(cv2.CAP_PROP_FPS) == pytest.approx(5.0)  # every 2nd frame of a 10 fps video
    capture.release()
    write_review(
        sequence_run
    )  # seaSky's own page: written again, without overwrite; the preview now embedded
    assert "data:video/webm;base64," in (sequence_run / PAGE).read_text()
    assert not (sequence_run / PREVIEW).exists()


def test_a_users_review_html_is_refused_and_left_as_it_was(sequence_run: Path, tmp_path: Path) -> None:
    own = tmp_path / "mine"
    own.mkdir()
    (own / PAGE).write_text("my notes")
    with pytest.raises(ConfigError, match="review.html, which seaSky did not write"):
        check_review(own, True)
    check_review(own, False)  # no page to write: nothing refused
    with pytest.raises(ConfigError, match="review must be true or false"):
        check_review(own, "yes")
    (sequence_run / PAGE).write_text("my notes")  # a page of the user's in a run dir: seaSky wrote none yet
    manifest = sequence_run / ".seaSky-outputs.json"
    manifest.write_text(json.dumps({"written_by": "seaSky", "outputs": ["horizon.csv", "overlay.mp4"]}))
    with pytest.raises(ConfigError, match="did not write"):
        write_review(sequence_run)
    assert (sequence_run / PAGE).read_text() == "my notes"
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="holds no seaSky outputs to review"):
        write_review(tmp_path / "empty")
    with pytest.raises(DataError, match="no such folder"):
        write_review(tmp_path / "missing")


def test_still_frames_page_shows_the_overlays_lowest_confidence_first(tmp_path: Path) -> None:
    out = tmp_path / "out"
    record_outputs(out, ["horizon.csv", "overlays", "masks"])
    confidences = {"a": 0.9, "b": 0.3, "c": None, "d": 0.6}
    rows = []
    for stem, conf in confidences.items():
        write_scene(out / "overlays", tmp_path / "_masks", stem, size=(H, W), seed=len(rows))
        line = {"y_left": "20.00", "y_right": "22.00", "angle_deg": "1.800", "confidence": f"{conf or 0:.3f}"}
        rows.append({"stem": stem, **(line if conf is not None else dict.fromkeys(line, ""))})
    write_csv(out / "horizon.csv", rows, ("stem", "y_left", "y_right", "angle_deg", "confidence"))
    assert run_kinds(out) == ["frames"]
    page = write_review(out, ReviewSettings(max_images=3)).read_text()
    assert re.findall(r'<img alt="(\w)" src="data:image/jpeg', page) == ["c", "b", "d"]  # no horizon first
    assert "3 of 4 frames shown" in page
    ranked = _figures(page)["ranked-frames"]
    assert [t["name"] for t in ranked["data"]] == ["confidence", "no horizon"]


def test_evaluate_page_has_the_metrics_a_sortable_table_and_the_worst_images(tmp_path: Path) -> None:
    run = tmp_path / "eval"
    record_outputs(run, ["results.json", "per_image.csv", "worst.png"])
    (run / "results.json").write_text(json.dumps({"test/dice": 0.9731, "n_images": 3, "split": "test"}))
    rows = [
        {"stem": s, "wrong_px": w, "dice": d}
        for s, w, d in (("x1", 5, 0.99), ("x2", 80, 0.7), ("x3", 9, 0.97))
    ]
    write_csv(run / "per_image.csv", rows, ("stem", "wrong_px", "dice"))
    cv2.imwrite(str(run / "worst.png"), np.full((300, 2000, 3), (40, 90, 200), np.uint8))
    assert run_kinds(run) == ["evaluate"]
    page = write_review(run).read_text()
    assert '<table class="sortable data">' in page and "sortTable" in page
    assert re.findall(r'<tr id="image-\d+"><td>\d+</td><td>(x\d)</td>', page) == [
        "x2",
        "x3",
        "x1",
    ]  # worst first
    assert "<td>test/dice</td><td>0.9731</td>" in page
    sheet = re.search(r'<img class="sheet" alt="worst.png" src="data:image/(png|jpeg);base64,([^"]+)"', page)
    picture = cv2.imdecode(np.frombuffer(base64.b64decode(sheet.group(2)), np.uint8), cv2.IMREAD_COLOR)
    assert picture.shape == (210, 1400, 3)  # scaled to SHEET_WIDTH


def test_footage_page_has_the_measures_timeline_and_worst_frames(tmp_path: Path) -> None:
    from seaSky import footage
    from seaSky.check_footage import FRAME_COLUMNS, markdown
    from seaSky.footage import FrameCheck

    ys = [20.0, 20.5, 21.0, 30.0, 30.5, math.nan]
    checks = [
        FrameCheck(f"f{i}", not math.isnan(y), y, 0.5, 0.0 if math.isnan(y) else 0.9, 0.95, 0.5, True, 1)
        for i, y in enumerate(ys)
    ]
    summary = {"input": "clip.mp4", **footage.summarize(checks, 5.0)}
    out = tmp_path / "checks"
    record_outputs(out, ["footage.json", "footage.md", "frames.csv", "worst.png"])
    (out / "footage.json").write_text(json.dumps(summary))
    (out / "footage.md").write_text(markdown(summary))
    write_csv(out / "frames.csv", footage.rows(checks, footage.problem_scores(checks)), FRAME_COLUMNS)
    cv2.imwrite(str(out / "worst.png"), np.zeros((40, 60, 3), np.uint8))
    assert run_kinds(out) == ["footage"]
    page = write_review(out).read_text()
    assert "<td>jumps above 5 px</td><td>1</td>" in page
    assert "<td>frame-to-frame |dy| (px), median / p95 / max</td>" in page
    jumps = [t for t in _figures(page)["footage-timeline"]["data"] if t["name"].startswith("jump")]
    assert _values(jumps[0]["x"]) == [3]
    assert 'alt="worst.png" src="data:image/png;base64,' in page


def test_the_review_command_takes_the_run_dir_first(sequence_run: Path) -> None:
    assert positional_run_dir(["out/a", "jump_px=3"]) == ["run_dir=out/a", "jump_px=3"]
    assert positional_run_dir(["--help"]) == ["--help"]
    assert positional_run_dir(["my run, 1"]) == ["run_dir='my run, 1'"]
    done = run_cli("review", str(sequence_run), "video_fps=null", cwd=sequence_run.parent)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "review page (video)" in done.stdout + done.stderr and (sequence_run / PAGE).is_file()
    assert sorted(p.name for p in sequence_run.parent.iterdir()) == ["seq"]  # nothing written elsewhere
    bad = run_cli("review", str(sequence_run), "jump_px=-1")
    assert bad.returncode == 2 and "jump_px must be > 0" in bad.stdout + bad.stderr


def test_review_settings_defaults_are_review_yamls() -> None:
    from omegaconf import OmegaConf

    from seaSky.paths import CONFIG_DIR

    conf = OmegaConf.load(CONFIG_DIR / "review.yaml")
    defaults = ReviewSettings()
    assert {key: conf[key] for key in ReviewSettings.__dataclass_fields__} == defaults.__dict__


def _predict(monkeypatch: pytest.MonkeyPatch, *args: str) -> None:
    """python -m seaSky.predict ARGS, in this process (the shipped model)."""
    from hydra.core.global_hydra import GlobalHydra

    from seaSky import predict

    GlobalHydra.instance().clear()
    monkeypatch.setattr(sys, "argv", ["seaSky.predict", *args])
    predict.main()


def test_predict_writes_the_review_page_and_review_false_skips_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clip = tmp_path / "clip.mp4"
    with VideoWriter(clip, FPS) as writer:
        for i in range(8):
            writer.write(_overlay_frame(i))
    out = tmp_path / "out"
    _predict(monkeypatch, f"input={clip}", f"output_dir={out}")
    page = (out / PAGE).read_text()
    timeline = _figures(page)["timeline"]
    states = next(t for t in timeline["data"] if t["name"] == "tracker state")
    assert _values(states["customdata"]) == list(range(8))
    assert "data:video/webm;base64," in page
    _predict(monkeypatch, f"input={clip}", f"output_dir={out}", "overwrite=true", "review=false")
    assert (out / "horizon.csv").is_file() and not (out / PAGE).exists()  # the earlier page went with its run
    review_after_run(out, review=False)  # without overwrite: nothing to delete, nothing written
    assert not (out / PAGE).exists()


# ---------------------------------------------------------------------------------------------- browser


@pytest.mark.browser
def test_the_page_draws_the_timeline_in_chromium_and_a_click_seeks_the_video(
    browser, sequence_run: Path
) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    page = write_review(sequence_run)
    browser.get(page.resolve().as_uri())
    WebDriverWait(browser, 30).until(
        lambda d: d.execute_script(
            "const v = document.getElementById('overlay-video');"
            "return document.querySelector('#timeline.js-plotly-plot .main-svg') !== null"
            " && v.readyState >= 1"
        )
    )
    assert console_errors(browser) == []
    traces = browser.execute_script("return document.getElementById('timeline').data.length")
    lines = browser.find_elements(By.CSS_SELECTOR, "#timeline .scatterlayer .trace path.js-line")
    assert traces >= 8 and len(lines) >= 4  # the height, angle, confidence and state lines are drawn
    shot = cv2.imdecode(np.frombuffer(browser.get_screenshot_as_png(), np.uint8), cv2.IMREAD_GRAYSCALE)
    assert shot.std() > 10 and (shot < 128).mean() > 0.01  # not a blank page
    # a click on the jump's marker in the timeline seeks the video to that frame
    timeline = browser.find_element(By.ID, "timeline")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", timeline)
    x, y = browser.execute_script(
        "const gd = document.getElementById('timeline'), L = gd._fullLayout;"
        "const t = gd.data.find(t => t.name === 'jump');"
        "return [L.xaxis5.l2p(t.x[0]) + L.xaxis5._offset,"
        "        L.yaxis5.l2p(L.yaxis5.d2l('jump')) + L.yaxis5._offset];"
    )
    size = timeline.size
    ActionChains(browser).move_to_element_with_offset(
        timeline, x - size["width"] / 2, y - size["height"] / 2
    ).click().perform()
    WebDriverWait(browser, 10).until(
        lambda d: d.execute_script("return document.getElementById('overlay-video').currentTime") > 0
    )
    current = browser.execute_script("return document.getElementById('overlay-video').currentTime")
    assert current == pytest.approx((JUMP_AT + 0.5) / FPS, abs=0.01)
    assert console_errors(browser) == []


@pytest.mark.slow
def test_evaluate_and_check_footage_write_their_review_pages(tmp_path: Path, tiny_checkpoint: Path) -> None:
    root = tmp_path / "data"
    for i in range(20):
        write_scene(root / "images", root / "masks", f"f{i:02d}", size=(H, W), seed=i)
    run = tmp_path / "eval"
    done = run_cli(
        "evaluate", f"ckpt_path={tiny_checkpoint}", "data=folder", f"data.root={root}", "data.split=all",
        f"hydra.run.dir={run}", "n_worst=2",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    page = (run / PAGE).read_text()
    assert len(re.findall(r'<tr id="image-\d+">', page)) == 20 and 'alt="worst.png"' in page
    out = tmp_path / "checks"
    args = [f"input={root / 'images'}", f"output_dir={out}", f"ckpt_path={tiny_checkpoint}", "n_worst=2"]
    done = run_cli("check_footage", *args, "review=false")
    assert done.returncode == 0, done.stderr[-2000:]
    assert not (out / PAGE).exists()
    done = run_cli("check_footage", *args, "overwrite=true")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "footage-timeline" in _figures((out / PAGE).read_text())
