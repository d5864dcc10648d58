"""seaSky.label: the labeller's server in-process (frames, the model's line, saving lines, polylines and "no
sea" into lines.csv + masks that seaSky.data.convert reads, resuming, bad input) and one browser test."""

from __future__ import annotations

import csv
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from conftest import write_scene
from seaSky.data.convert import convert
from seaSky.data.convert_formats import fit_line, line_mask, polyline_mask
from seaSky.errors import ConfigError, DataError
from seaSky.inference import load_predictor
from seaSky.label.__main__ import resolve_input
from seaSky.label.server import LabelServer, LabelSession
from seaSky.pick import pick

H, W = 48, 64


@pytest.fixture(scope="module")
def predictor(tiny_checkpoint: Path):
    return load_predictor(tiny_checkpoint)


def _frames(folder: Path, n: int = 4) -> list[Path]:
    for i in range(n):
        write_scene(folder, folder.parent / "masks_unused", f"f_{i}", size=(H, W), seed=i)
    return sorted(folder.iterdir())


@pytest.fixture
def serve() -> Iterator:
    """serve(session) -> the server's URL; the server runs in a thread and stops after the test."""
    servers = []

    def start(session: LabelSession) -> str:
        server = LabelServer(session, port=0)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server.url

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def _post(url: str, body: object) -> tuple[int, dict]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def _lines(out: Path) -> list[dict]:
    with open(out / "lines.csv", newline="") as fh:
        return list(csv.DictReader(fh))


def _mask(out: Path, stem: str) -> np.ndarray:
    return cv2.imread(str(out / "masks" / f"{stem}.png"), cv2.IMREAD_UNCHANGED)


def test_label_server_saves_lines_polylines_and_no_sea_that_convert_reads(
    tmp_path: Path, predictor, serve
) -> None:
    frames = _frames(tmp_path / "in")
    out = tmp_path / "out"
    url = serve(LabelSession(frames, out, predictor))
    status, page = _get(url)
    assert status == 200 and b"<canvas" in page
    state = json.loads(_get(url + "api/state")[1])
    assert [f["file"] for f in state["frames"]] == [f"images/f_{i}.png" for i in range(4)] and state[
        "first"
    ] == 0
    info = json.loads(_get(url + "api/frame/0")[1])
    assert (info["width"], info["height"], info["label"]) == (W, H, None)
    if info["model"] is not None:  # the model's line: its ends at the first and last column
        assert [p[0] for p in info["model"]["points"]] == [0.0, W - 1.0]
    status, png = _get(url + "api/frame/0/image.png")
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_UNCHANGED)
    assert status == 200 and image.shape == (H, W) and image.dtype == np.uint8
    assert (image == cv2.imread(str(frames[0]), cv2.IMREAD_UNCHANGED)).all()  # 8-bit frames as they are

    assert _post(url + "api/frame/0", {"points": [[63, 30.5], [0, 20]]})[0] == 200  # any order: sorted by x
    assert _post(url + "api/frame/1", {"points": [[0, 20], [30, 32], [63, 22]]})[0] == 200
    assert _post(url + "api/frame/2", {"no_sea": True})[0] == 200
    rows = _lines(out)
    assert [r["file"] for r in rows] == ["images/f_0.png", "images/f_1.png", "images/f_2.png"]
    assert [rows[0][k] for k in ("x1", "y1", "x2", "y2", "points", "no_sea")] == [
        "0",
        "20",
        "63",
        "30.5",
        "",
        "",
    ]
    assert rows[1]["points"] == "0 20;30 32;63 22" and (rows[1]["x2"], rows[1]["y2"]) == ("63", "22")
    assert rows[2]["no_sea"] == "1" and rows[2]["x1"] == ""
    np.testing.assert_array_equal(
        _mask(out, "f_0"), line_mask(*fit_line([0, 63], [20, 30.5], ""), H, W) * 255
    )
    np.testing.assert_array_equal(_mask(out, "f_1"), polyline_mask([0, 30, 63], [20, 32, 22], H, W) * 255)
    assert not _mask(out, "f_2").any()
    for i in range(3):  # the frames copied beside the labels
        assert (out / "images" / f"f_{i}.png").read_bytes() == frames[i].read_bytes()
    assert not (out / "images" / "f_3.png").exists()

    status, reply = _post(url + "api/frame/3", {"points": [[0, 200], [63, 210]]})  # labelled at another size
    assert status == 400 and "f_3.png" in reply["error"] and "labelled at another size?" in reply["error"]
    status, reply = _post(url + "api/frame/3", {"points": [[5, 5]]})
    assert status == 400 and "(2 to 200 points)" in reply["error"]
    assert _post(url + "api/frame/3", b"{not json")[0] == 400
    assert _get(url + "api/frame/9")[0] == 400 and _get(url + "api/nothing")[0] == 404
    assert len(_lines(out)) == 3  # nothing of the refused labels was written

    done = convert("lines-csv", out / "lines.csv", tmp_path / "dest", split="all")
    assert done.n_frames == 3 and done.check is not None and done.check.problems == []
    for stem in ("f_0", "f_1", "f_2"):  # convert draws the same masks
        np.testing.assert_array_equal(_mask(tmp_path / "dest", stem), _mask(out, stem))
    assert (tmp_path / "dest" / "meta.csv").read_text().count("\n") == 2  # the straight line only
    meta = (out / "meta.csv").read_text().splitlines()
    assert len(meta) == 2 and meta[1].startswith("f_0,20.0,30.5,")

    again = LabelSession(frames, out, predictor)  # a new session (a restart) goes on from lines.csv
    assert again.state()["first"] == 3
    assert again.labels["images/f_1.png"] == {"points": [[0.0, 20.0], [30.0, 32.0], [63.0, 22.0]]}
    assert again.labels["images/f_2.png"] == {"no_sea": True}
    again.save(3, {"points": [[0, 24], [63, 24]]})
    assert len(_lines(out)) == 4 and (out / "masks" / "f_3.png").is_file()
    fresh = LabelSession(frames, out, predictor, overwrite=True)  # overwrite: start afresh
    assert fresh.labels == {} and not (out / "lines.csv").exists() and not (out / "masks").exists()


def test_label_refuses_bad_inputs_and_outputs(tmp_path: Path, predictor) -> None:
    frames = _frames(tmp_path / "in", 2)
    with pytest.raises(ConfigError, match="is the folder of the frames"):
        LabelSession(frames, tmp_path / "in")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "lines.csv").write_text("file,x1,y1,x2,y2\n")  # a user's own file is never replaced
    with pytest.raises(ConfigError, match="which seaSky did not write"):
        LabelSession(frames, mine, overwrite=True)
    with pytest.raises(DataError, match="pick some first with python -m seaSky.pick"):
        resolve_input(str(tmp_path / "clip.mp4"), str(tmp_path / "o"))
    with pytest.raises(ConfigError, match="output_dir: no value given"):
        resolve_input(str(tmp_path / "in"), None)
    picked = tmp_path / "picked"  # an OUT of seaSky.pick: its images/ are labelled in place
    pick(predictor, tmp_path / "in", picked, n=2)
    found, out = resolve_input(str(picked), None)
    assert out == picked and [p.parent for p in found] == [picked / "images"] * 2
    session = LabelSession(found, out)
    assert session.copy is False
    session.save(0, {"no_sea": True})
    assert _lines(picked)[0]["file"] == found[0].relative_to(picked).as_posix()
    broken = tmp_path / "broken"
    LabelSession(frames, broken).save(0, {"points": [[0, 20], [63, 22]]})
    (broken / "lines.csv").write_text("file,x1,y1,x2,y2,points,no_sea\nimages/f_0.png,0,x,63,22,,\n")
    with pytest.raises(DataError, match=r"lines.csv:2: not a label"):
        LabelSession(frames, broken)
    used = LabelServer(LabelSession(frames, tmp_path / "o2"), port=0)
    try:
        with pytest.raises(ConfigError, match=f"port={used.server_address[1]}: cannot serve"):
            LabelServer(LabelSession(frames, tmp_path / "o3"), port=used.server_address[1])
    finally:
        used.server_close()


@pytest.mark.browser
def test_label_page_drag_an_end_and_save(tmp_path: Path, browser, serve) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    from browser import console_errors

    frames = _frames(tmp_path / "in", 2)
    out = tmp_path / "out"
    url = serve(LabelSession(frames, out))  # no model: the proposed line lies at mid-height
    browser.get(url)
    WebDriverWait(browser, 30).until(
        lambda d: d.execute_script("return window.seaSky && window.seaSky.ready")
    )
    canvas = browser.find_element(By.ID, "view")
    centre = browser.execute_script(
        "const r = arguments[0].getBoundingClientRect(); const S = window.seaSky;"
        "const p = S.toScreen(...S.points[S.points.length - 1]);"
        "return [p[0] - r.width / 2, p[1] - r.height / 2, S.scale, S.points[1][1]];",
        canvas,
    )
    dx, dy, scale, y_before = centre
    assert y_before == (H - 1) / 2
    drag = 60  # screen px down
    ActionChains(browser).move_to_element_with_offset(
        canvas, int(dx), int(dy)
    ).click_and_hold().move_by_offset(0, drag).release().perform()
    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.ENTER)
    WebDriverWait(browser, 30).until(lambda d: (out / "lines.csv").is_file())
    row = _lines(out)[0]
    assert row["file"] == "images/f_0.png" and float(row["y1"]) == pytest.approx(y_before)
    assert float(row["y2"]) == pytest.approx(y_before + drag / scale, abs=1.5 / scale + 0.01)
    assert float(row["x2"]) == pytest.approx(W - 1, abs=1.5 / scale + 0.01)
    WebDriverWait(browser, 30).until(lambda d: d.execute_script("return window.seaSky.index") == 1)
    shot = tmp_path / "label.png"
    assert browser.save_screenshot(str(shot))
    pixels = cv2.imread(str(shot))
    assert pixels is not None and pixels.std() > 5  # the frame is drawn: not a blank page
    drawn = browser.execute_script(
        "const c = document.getElementById('view'); const d = c.getContext('2d')"
        ".getImageData(0, 0, c.width, c.height).data; let n = 0;"
        "for (let i = 0; i < d.length; i += 4) if (d[i] !== 17 || d[i+1] !== 17) n++; return n;"
    )
    assert drawn > 1000  # pixels other than the background on the canvas
    assert console_errors(browser) == []
