"""Drawing a learner's symbols on the Teach page with the mouse (the browser test and benchmarks/teach.py).

Three symbols a LeNet trained on digits has never seen as classes: a stroke (一), a circle (○) and a
cross (×), each drawn with some jitter in place, size and slant, as a hand would, from a seeded
generator. Points are in the pad's own 280×280 pixels.
"""

from __future__ import annotations

import math
import random

SYMBOLS = ("一", "○", "×")


def symbol_strokes(symbol: str, rng: random.Random) -> list[list[tuple[float, float]]]:
    """Pen strokes of one hand-drawn ``symbol`` (one of :data:`SYMBOLS`)."""
    cx, cy = 140 + rng.uniform(-30, 30), 140 + rng.uniform(-30, 30)
    size = rng.uniform(55, 95)
    tilt = rng.uniform(-0.25, 0.25)

    def turn(x: float, y: float) -> tuple[float, float]:
        return (cx + x * math.cos(tilt) - y * math.sin(tilt), cy + x * math.sin(tilt) + y * math.cos(tilt))

    if symbol == "一":
        return [[turn(-size, rng.uniform(-4, 4)), turn(0, rng.uniform(-6, 6)), turn(size, rng.uniform(-4, 4))]]
    if symbol == "○":
        squash = rng.uniform(0.8, 1.15)
        return [[turn(size * math.cos(a) * squash, size * math.sin(a))
                 for a in (2 * math.pi * i / 16 for i in range(17))]]
    if symbol == "×":
        return [[turn(-size, -size), turn(size, size)], [turn(size, -size), turn(-size, size)]]
    raise ValueError(f"no strokes for {symbol!r}")


def pad(page, name: str = "Drawing pad"):
    """The Teach page's drawing pad by its accessible name (the live view's own pad is hidden on that
    page, so it is not in the role tree)."""
    return page.get_by_role("img", name=name)


def draw_strokes(page, strokes: list[list[tuple[float, float]]], steps: int = 6, pad_name: str = "Drawing pad") -> None:
    """Draw strokes with the mouse on the pad."""
    box = pad(page, pad_name).bounding_box()
    k = box["width"] / 280
    for points in strokes:
        page.mouse.move(box["x"] + points[0][0] * k, box["y"] + points[0][1] * k)
        page.mouse.down()
        for x, y in points[1:]:
            page.mouse.move(box["x"] + x * k, box["y"] + y * k, steps=steps)
        page.mouse.up()


def teach_classes(page, per_class: int, seed: int = 0, add_class: str = "Add class", new_class: str = "New class name",
                  add_drawing: str = "Add drawing to {name}", pad_name: str = "Drawing pad") -> None:
    """Name the :data:`SYMBOLS` classes and draw ``per_class`` examples of each, adding each drawing to
    its class (the accessible names in the page's language)."""
    rng = random.Random(seed)
    for symbol in SYMBOLS:
        page.get_by_role("textbox", name=new_class).fill(symbol)
        page.get_by_role("button", name=add_class, exact=True).click()
    pad(page, pad_name).scroll_into_view_if_needed()
    for _ in range(per_class):
        for symbol in SYMBOLS:
            draw_strokes(page, symbol_strokes(symbol, rng), pad_name=pad_name)
            page.get_by_role("button", name=add_drawing.format(name=symbol), exact=True).click()
