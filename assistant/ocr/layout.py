"""Page geometry before and after recognition: deskew, ruled tables, and words placed into their cells.

Everything here is numpy on a grayscale page; no OCR. Scanned 공문 put their tables (and the 결재 block)
in ruled grids, so a table is found from its lines: long horizontal and vertical ink runs, joined where they
cross. The lines are then erased before recognition (an engine reads a ruling as "|" or "ㅣ") and each
recognised word is put into the cell its centre falls in; a row keeps as many cells as its own vertical
lines make, so merged cells survive.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

#: ink threshold on 0–255 gray
INK = 150


def ink_mask(gray: Image.Image) -> np.ndarray:
    return np.asarray(gray, dtype=np.uint8) < INK


def skew_angle(gray: Image.Image, limit: float = 4.0, step: float = 0.2) -> float:
    """The rotation (degrees, counter-clockwise positive as PIL's ``rotate``) that makes text lines level.

    Projection-profile search on a reduced copy: level lines make the row sums peaky, so the angle with
    the largest variance of row sums wins. A slight skew (a page put on the scanner askew) costs the
    engine little, but it breaks the table grid, whose lines must be axis-parallel.
    """
    small = gray.copy()
    small.thumbnail((900, 900))
    ink = Image.fromarray((np.asarray(small) < INK).astype(np.uint8) * 255)
    if not np.asarray(ink).any():
        return 0.0
    best, best_score = 0.0, -1.0
    for angle in np.arange(-limit, limit + step / 2, step):
        rows = np.asarray(ink.rotate(float(angle), resample=Image.Resampling.NEAREST), dtype=np.float32).sum(axis=1)
        score = float(np.var(rows))
        if score > best_score + 1e-6:
            best, best_score = float(angle), score
    return round(best, 2)


def rotate(gray: Image.Image, angle: float) -> Image.Image:
    if abs(angle) < 0.05:
        return gray
    return gray.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=255)


# ------------------------------------------------------------------ ruled lines

def _runs_mask(ink: np.ndarray, length: int) -> np.ndarray:
    """Pixels lying on a horizontal run of ink at least ``length`` long (a 1-D morphological opening)."""
    h, w = ink.shape
    if length >= w:
        return np.zeros_like(ink)
    c = np.zeros((h, w + 1), dtype=np.int32)
    np.cumsum(ink, axis=1, out=c[:, 1:])
    full = (c[:, length:] - c[:, :-length]) == length           # window [x, x+length) all ink
    starts = np.zeros((h, w + 1), dtype=np.int32)
    starts[:, : full.shape[1]] = full
    s = np.cumsum(starts, axis=1)
    # pixel x is covered when a full window starts in (x-length, x]
    covered = s[:, :w] - np.concatenate([np.zeros((h, length), dtype=np.int32), s[:, : w - length]], axis=1)
    return covered > 0


@dataclass(frozen=True)
class Segment:
    """A ruling: ``pos`` is its y (horizontal) or x (vertical); it spans ``start``..``end`` along its axis."""

    pos: int
    start: int
    end: int


def _segments(mask: np.ndarray, min_len: int) -> list[Segment]:
    """Horizontal segments of a line mask, rows of one thick line merged."""
    found: list[list[int]] = []     # [y0, y1, x0, x1]
    for y in np.flatnonzero(mask.any(axis=1)):
        row = mask[y].astype(np.int8)
        edges = np.flatnonzero(np.diff(np.concatenate(([0], row, [0]))))
        for x0, x1 in zip(edges[::2], edges[1::2], strict=True):
            if x1 - x0 < min_len:
                continue
            for seg in found:
                if y - seg[1] <= 2 and x0 < seg[3] and x1 > seg[2]:
                    seg[1], seg[2], seg[3] = int(y), min(seg[2], int(x0)), max(seg[3], int(x1))
                    break
            else:
                found.append([int(y), int(y), int(x0), int(x1)])
    return [Segment((s[0] + s[1]) // 2, s[2], s[3]) for s in found]


@dataclass
class Table:
    """A ruled grid: its box and, per row band, the x of the vertical lines crossing it."""

    left: int
    top: int
    right: int
    bottom: int
    rows: list[tuple[int, int]]             # (y0, y1) of each row band
    columns: list[list[int]]                # per row: sorted x of the verticals in it

    def cell_of(self, x: float, y: float) -> tuple[int, int] | None:
        for r, (y0, y1) in enumerate(self.rows):
            if y0 <= y < y1:
                xs = self.columns[r]
                for c in range(len(xs) - 1):
                    if xs[c] <= x < xs[c + 1]:
                        return r, c
                return None
        return None


def find_tables(ink: np.ndarray, dpi: int = 300) -> tuple[list[Table], np.ndarray]:
    """Ruled tables on a page and the mask of their lines (to erase before recognition)."""
    h, w = ink.shape
    min_h = max(40, int(dpi * 0.35))            # a horizontal ruling is at least ~9 mm
    min_v = max(30, int(dpi * 0.15))            # a vertical one spans at least one row (~4 mm)
    hmask = _runs_mask(ink, min_h)
    vmask = _runs_mask(np.ascontiguousarray(ink.T), min_v).T
    hsegs = _segments(hmask, min_h)
    vsegs = _segments(np.ascontiguousarray(vmask.T), min_v)
    tol = max(4, dpi // 50)
    parent = list(range(len(hsegs) + len(vsegs)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, hs in enumerate(hsegs):
        for j, vs in enumerate(vsegs):
            if hs.start - tol <= vs.pos <= hs.end + tol and vs.start - tol <= hs.pos <= vs.end + tol:
                parent[find(i)] = find(len(hsegs) + j)
    groups: dict[int, tuple[list[Segment], list[Segment]]] = {}
    for i, hs in enumerate(hsegs):
        groups.setdefault(find(i), ([], []))[0].append(hs)
    for j, vs in enumerate(vsegs):
        groups.setdefault(find(len(hsegs) + j), ([], []))[1].append(vs)
    tables = [t for hs, vs in groups.values() if len(hs) >= 2 and len(vs) >= 2
              for t in [_grid(hs, vs, tol)] if t is not None]
    return tables, hmask | vmask


def _grid(hsegs: list[Segment], vsegs: list[Segment], tol: int) -> Table | None:
    ys = _merge_close(sorted(s.pos for s in hsegs), tol)
    if len(ys) < 2:
        return None
    rows = list(zip(ys[:-1], ys[1:], strict=True))
    columns = []
    for y0, y1 in rows:
        mid = (y0 + y1) / 2
        xs = _merge_close(sorted(v.pos for v in vsegs if v.start - tol <= mid <= v.end + tol), tol)
        columns.append(xs)
    if not any(len(xs) >= 2 for xs in columns):
        return None
    left = min(min(s.start for s in hsegs), min(v.pos for v in vsegs))
    right = max(max(s.end for s in hsegs), max(v.pos for v in vsegs))
    return Table(left, ys[0], right, ys[-1], rows, columns)


def _merge_close(values: list[int], tol: int) -> list[int]:
    out: list[int] = []
    for v in values:
        if out and v - out[-1] <= tol:
            continue
        out.append(v)
    return out


def erase(gray: Image.Image, mask: np.ndarray, grow: int = 2) -> Image.Image:
    """The page with the masked pixels (table rulings) made white, the mask grown by ``grow`` pixels."""
    if not mask.any():
        return gray
    m = mask.copy()
    for _ in range(grow):
        m[1:, :] |= m[:-1, :]
        m[:-1, :] |= m[1:, :]
        m[:, 1:] |= m[:, :-1]
        m[:, :-1] |= m[:, 1:]
    arr = np.asarray(gray, dtype=np.uint8).copy()
    arr[m] = 255
    return Image.fromarray(arr)
