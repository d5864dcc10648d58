"""Label frames in your browser: ``python -m seaSky.label input=FRAMES output_dir=OUT [port=8765]``.

A small local web page (served on 127.0.0.1 by the standard library's http.server; a self-written HTML
canvas page in this package, no build step, no network) shows each frame with the model's horizon already
drawn. Accept it (Enter), drag its ends, shift-click points for a coast that is not straight, or mark the
frame "no sea in view" (n); every label is saved at once into ``OUT/lines.csv`` (the ``lines-csv`` format
of ``python -m seaSky.data.convert``), ``OUT/masks/<stem>.png`` (255 = sea below the line; all 0 for no sea)
and ``OUT/meta.csv`` (the straight lines), and the frames are copied into ``OUT/images/`` (unless they lie
there already, as ``python -m seaSky.pick`` puts them). OUT is then a seaSky folder:
``python -m seaSky.train experiment=finetune data.root=OUT``. See :mod:`seaSky.label.server`.
"""

from seaSky.label.server import LabelServer, LabelSession

__all__ = ["LabelServer", "LabelSession"]
