"""The labeller's state and its local web server (the standard library's ThreadingHTTPServer).

:class:`LabelSession` holds the frames, the model's line of each (computed when a frame is first shown) and
the labels; :meth:`LabelSession.save` writes one label at once: ``OUT/lines.csv`` (the ``lines-csv`` format
of ``seaSky.data.convert``, with the optional ``points`` and ``no_sea`` columns), ``OUT/masks/<stem>.png``
(255 = sea below the line) and ``OUT/meta.csv`` (the straight lines, as convert writes it), each file
atomically, so that closing the page or stopping the server loses nothing and a new session resumes.

API (JSON): ``GET api/state`` (the frames and their labels), ``GET api/frame/I`` (size, label, the model's
line), ``GET api/frame/I/image.png`` (the frame as 8-bit PNG), ``POST api/frame/I`` with
``{"points": [[x, y], ...]}`` or ``{"no_sea": true}`` (400 with ``{"error": ...}`` for a bad label).
"""

from __future__ import annotations

import csv
import json
import logging
import math
import re
import shutil
import threading
from collections.abc import Sequence
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path

import cv2
import numpy as np

from seaSky.data.convert import META_COLUMNS, _meta_row
from seaSky.data.convert_formats import LINES_CSV_COLUMNS, NO_SEA_VALUES, Options, lines_csv_item
from seaSky.data.folder import read_image
from seaSky.errors import ConfigError, DataError, SeaSkyError
from seaSky.io import atomic_write, earlier_outputs, record_outputs, remove_outputs, write_csv

log = logging.getLogger(__name__)
LABELS = ("lines.csv", "masks", "meta.csv")  # what the labeller writes into OUT (and images/ when it copies)
MAX_POINTS = 200
MAX_BODY = 1 << 20


def page() -> bytes:
    """The labelling page (package data)."""
    return resources.files("seaSky.label").joinpath("page.html").read_bytes()


def check_outputs(frames: Sequence[Path], output_dir: Path, overwrite: bool = False) -> list[Path]:
    """The earlier labels in OUT that ``overwrite`` discards (without it, a session resumes from them);
    ConfigError for an OUT that is the frames' own folder or holds files seaSky did not write under the
    labeller's names."""
    out = Path(output_dir)
    folder = frames[0].parent.resolve()
    if folder == out.resolve():
        raise ConfigError(
            f"{output_dir}: is the folder of the frames; the labels go beside them in images/, masks/ and "
            "lines.csv: choose another output_dir"
        )
    found = earlier_outputs(out, LABELS, overwrite=True)
    if folder != (out / "images").resolve():
        found += earlier_outputs(out, ("images",), overwrite=True)  # the labeller copies frames into it
    return found if overwrite else []


class LabelSession:
    """Frames to label, the labels saved in ``output_dir`` so far, and the model's lines.

    Args:
        frames: the image files, in the order shown; their names must differ.
        output_dir: OUT; frames not in ``OUT/images`` are copied there when their label is saved.
        predictor: a :class:`seaSky.inference.Predictor` for the proposed lines (None: a line at mid-height).
        overwrite: discard the labels of an earlier session in OUT instead of resuming from them.
    """

    def __init__(
        self, frames: Sequence[Path], output_dir: str | Path, predictor=None, overwrite: bool = False
    ) -> None:
        if not frames:
            raise DataError("no frames to label")
        self.frames = [Path(p) for p in frames]
        self.out = Path(output_dir)
        remove_outputs(check_outputs(self.frames, self.out, overwrite))
        self.copy = self.frames[0].parent.resolve() != (self.out / "images").resolve()
        self.files = [f"images/{p.name}" for p in self.frames]
        self.predictor = predictor
        self.labels: dict[str, dict] = {}  # file -> {"points": [[x, y], ...]} or {"no_sea": True}
        self.kept_rows: list[dict] = []  # lines.csv rows of files that are not among the frames: kept
        self.meta: dict[str, dict] = {}  # stem -> meta.csv row (straight lines only)
        self._models: dict[int, dict | None] = {}
        self._lock = threading.Lock()
        self._model_lock = threading.Lock()
        self._resume()

    # ---- state

    def _resume(self) -> None:
        """Read OUT/lines.csv of an earlier session (each row checked as convert checks it)."""
        path = self.out / "lines.csv"
        if not path.is_file():
            return
        known = set(self.files)
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            for row in reader:
                where = f"{path}:{reader.line_num}"
                file = str(row.get("file") or "").strip()
                if file not in known:
                    self.kept_rows.append(row)
                    continue
                label = label_of_row(row, where)
                if (self.out / file).is_file():
                    item = lines_csv_item(row, self.out, Options(), where)
                    self._write_mask(item)
                    if item.line is not None:
                        self.meta[item.stem] = _meta_row(item)
                self.labels[file] = label
        log.info("%s: %d labels of an earlier session; going on from there", path, len(self.labels))

    def state(self) -> dict:
        """The frames with their labels, and the first one without a label (the last one when all have)."""
        labels = [self.labels.get(file) for file in self.files]
        first = next((i for i, label in enumerate(labels) if label is None), len(labels) - 1)
        frames = [{"file": file, "label": label} for file, label in zip(self.files, labels, strict=True)]
        return {"frames": frames, "first": first, "output": str(self.out)}

    def _index(self, index: int) -> int:
        if not 0 <= index < len(self.frames):
            raise DataError(f"frame {index}: no such frame (0 to {len(self.frames) - 1})")
        return index

    def image(self, index: int) -> np.ndarray:
        """The frame as seaSky reads it (raw values, one channel)."""
        return read_image(self.frames[self._index(index)])

    def frame(self, index: int) -> dict:
        """A frame's size, its label and the model's line (its ends at x = 0 and W - 1, and confidence)."""
        image = self.image(index)
        height, width = image.shape[:2]
        return {
            "file": self.files[index],
            "width": int(width),
            "height": int(height),
            "label": self.labels.get(self.files[index]),
            "model": self.model_line(index, image),
        }

    def model_line(self, index: int, image: np.ndarray | None = None) -> dict | None:
        """The model's horizon of a frame (once per frame), None without a model or a horizon."""
        if self.predictor is None:
            return None
        with self._model_lock:
            if index not in self._models:
                line = self.predictor.predict([self.image(index) if image is None else image])[0].horizon
                self._models[index] = None if line is None else {
                    "points": [[0.0, round(float(line.y_left), 3)],
                               [float(line.width - 1), round(float(line.y_right), 3)]],
                    "confidence": round(float(line.confidence), 4),
                }  # fmt: skip
            return self._models[index]

    def png(self, index: int) -> bytes:
        """The frame as an 8-bit PNG for the page: 8-bit frames as they are, deeper ones stretched from their
        minimum to their maximum (the page stretches the contrast further)."""
        image = self.image(index)
        low, high = float(image.min()), float(image.max())
        if low >= 0 and high <= 255 and np.all(image == np.round(image)):
            grey = image.astype(np.uint8)
        else:
            grey = ((image - low) * (255.0 / max(high - low, 1e-6))).clip(0, 255).astype(np.uint8)
        ok, encoded = cv2.imencode(".png", grey)
        if not ok:
            raise OSError(f"{self.frames[index]}: PNG encoding failed")
        return encoded.tobytes()

    # ---- saving

    def save(self, index: int, body: object) -> dict:
        """Check and save one frame's label (see :func:`label_of_body`); DataError for a bad one."""
        index = self._index(index)
        file, source = self.files[index], self.frames[index]
        label = label_of_body(body, f"frame {file}")
        row = row_of_label(file, label)
        with self._lock:
            # checked as convert will read it, on the frame where it lies now
            item = lines_csv_item({**row, "file": source.name}, source.parent, Options(), f"frame {file}")
            names = ["images", *LABELS] if self.copy else list(LABELS)
            record_outputs(self.out, names)
            if self.copy:
                target = self.out / file
                atomic_write(target, lambda tmp: shutil.copyfile(source, tmp))
            self._write_mask(item)
            self.labels[file] = label
            self.meta.pop(item.stem, None)
            if item.line is not None:
                self.meta[item.stem] = {**_meta_row(item), "source": str(self.out / file)}
            self._write_tables()
        log.info("saved %s (%s)", file, "no sea" if label.get("no_sea") else f"{len(label['points'])} points")
        return {"file": file, "label": label, "n_labelled": len(self.labels)}

    def _write_mask(self, item) -> None:
        ok, encoded = cv2.imencode(".png", item.mask * np.uint8(255))
        if not ok:
            raise OSError(f"mask of {item.stem}: PNG encoding failed")
        atomic_write(self.out / "masks" / f"{item.stem}.png", lambda tmp: tmp.write_bytes(encoded.tobytes()))

    def _write_tables(self) -> None:
        rows = [row_of_label(file, self.labels[file]) for file in self.files if file in self.labels]
        write_csv(self.out / "lines.csv", rows + self.kept_rows, LINES_CSV_COLUMNS)
        write_csv(self.out / "meta.csv", [self.meta[s] for s in sorted(self.meta)], META_COLUMNS)


def _number(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".")


def row_of_label(file: str, label: dict) -> dict:
    """The lines.csv row of a label: a straight line in x1..y2, a polyline also in ``points``, no sea as
    ``no_sea`` = 1 with empty coordinates."""
    if label.get("no_sea"):
        return {"file": file, "x1": "", "y1": "", "x2": "", "y2": "", "points": "", "no_sea": 1}
    points = label["points"]
    (x1, y1), (x2, y2) = points[0], points[-1]
    text = ";".join(f"{_number(x)} {_number(y)}" for x, y in points) if len(points) > 2 else ""
    ends = {"x1": _number(x1), "y1": _number(y1), "x2": _number(x2), "y2": _number(y2)}
    return {"file": file, **ends, "points": text, "no_sea": ""}


def label_of_row(row: dict, where: str) -> dict:
    """The label of a lines.csv row (the page's form); DataError naming ``where`` for a malformed row."""
    no_sea = NO_SEA_VALUES.get(str(row.get("no_sea") or "").strip().lower())
    if no_sea:
        return {"no_sea": True}
    text = str(row.get("points") or "").strip()
    try:
        if text:
            points = [[float(v) for v in part.split()] for part in text.split(";") if part.strip()]
        else:
            points = [[float(row["x1"]), float(row["y1"])], [float(row["x2"]), float(row["y2"])]]
    except (TypeError, ValueError, KeyError):
        raise DataError(
            f"{where}: not a label (x1,y1,x2,y2 numbers, points 'x y;...', or no_sea=1)"
        ) from None
    return label_of_body({"points": points}, where)


def label_of_body(body: object, where: str) -> dict:
    """A label from the page: ``{"points": [[x, y], ...]}`` (2 to MAX_POINTS finite points, sorted by x) or
    ``{"no_sea": true}``; DataError naming ``where`` otherwise."""
    if isinstance(body, dict) and body.get("no_sea") is True:
        return {"no_sea": True}
    points = body.get("points") if isinstance(body, dict) else None
    ok = isinstance(points, list) and 2 <= len(points) <= MAX_POINTS
    ok = ok and all(
        isinstance(p, list) and len(p) == 2 and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in p
        )
        for p in points
    )  # fmt: skip
    if not ok:
        raise DataError(
            f'{where}: a label is {{"points": [[x, y], ...]}} (2 to {MAX_POINTS} points) or '
            '{"no_sea": true}'
        )
    return {"points": sorted([[round(float(x), 3), round(float(y), 3)] for x, y in points])}


# ---- the web server


class Handler(BaseHTTPRequestHandler):
    """The page and its JSON API over one :class:`LabelSession` (``server.session``)."""

    server: LabelServer

    def log_message(self, format: str, *args: object) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    def _send(self, status: int, body: bytes, kind: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, data: dict) -> None:
        self._send(status, json.dumps(data).encode(), "application/json")

    def _route(self) -> tuple[str, int | None]:
        path = self.path.split("?", 1)[0].split("#", 1)[0]
        found = re.fullmatch(r"/api/frame/(\d+)(/image\.png)?", path)
        if found:
            return ("image" if found.group(2) else "frame"), int(found.group(1))
        return path, None

    def do_GET(self) -> None:
        """The page, the state, a frame's data or its image."""
        route, index = self._route()
        session = self.server.session
        try:
            if route in ("/", "/index.html"):
                self._send(HTTPStatus.OK, page(), "text/html; charset=utf-8")
            elif route == "/api/state":
                self._json(HTTPStatus.OK, session.state())
            elif route == "frame" and index is not None:
                self._json(HTTPStatus.OK, session.frame(index))
            elif route == "image" and index is not None:
                self._send(HTTPStatus.OK, session.png(index), "image/png")
            else:
                self._json(HTTPStatus.NOT_FOUND, {"error": f"{self.path}: not found"})
        except SeaSkyError as err:
            self._json(HTTPStatus.BAD_REQUEST, {"error": " ".join(str(err).split())})

    def do_POST(self) -> None:
        """Save a frame's label."""
        route, index = self._route()
        if route != "frame" or index is None:
            self._json(HTTPStatus.NOT_FOUND, {"error": f"{self.path}: not found"})
            return
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._json(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"error": "label too large"})
            return
        try:
            body = json.loads(self.rfile.read(length) or b"null")
        except ValueError:
            self._json(HTTPStatus.BAD_REQUEST, {"error": "the label is not JSON"})
            return
        try:
            self._json(HTTPStatus.OK, self.server.session.save(index, body))
        except SeaSkyError as err:
            self._json(HTTPStatus.BAD_REQUEST, {"error": " ".join(str(err).split())})


class LabelServer(ThreadingHTTPServer):
    """A ThreadingHTTPServer on 127.0.0.1 serving one session."""

    daemon_threads = True

    def __init__(self, session: LabelSession, port: int = 8765, host: str = "127.0.0.1") -> None:
        self.session = session
        try:
            super().__init__((host, int(port)), Handler)
        except OSError as err:
            raise ConfigError(
                f"port={port}: cannot serve on {host}:{port} ({err.strerror or err}); pass another port, or "
                "port=0 for a free one"
            ) from None

    @property
    def url(self) -> str:
        """The page's address."""
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/"
