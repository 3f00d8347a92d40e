"""Rank fusion and neighbour merging. Pure functions over positions and scores."""

from __future__ import annotations

from collections.abc import Sequence


def weighted_rrf(rankings: Sequence[tuple[float, Sequence[int]]], k: int = 60) -> list[tuple[int, float]]:
    """Weighted reciprocal rank fusion: score(d) = sum of weight / (k + rank), rank from 1.

    Each ranking is (weight, positions best-first). Ties keep the order in which items first appeared,
    which makes the result deterministic.
    """
    scores: dict[int, float] = {}
    for weight, ranking in rankings:
        if weight <= 0:
            continue
        for rank, pos in enumerate(ranking, start=1):
            scores[pos] = scores.get(pos, 0.0) + weight / (k + rank)
    return sorted(scores.items(), key=lambda kv: -kv[1])


def merge_adjacent(hits: Sequence[tuple[int, float, str, int]]) -> list[list[tuple[int, float, str, int]]]:
    """Group hits (pos, score, doc_id, ordinal) so that adjacent chunks of one document form one group.

    Groups are ordered by their best member; members inside a group by ordinal. Two chunks are
    adjacent when their ordinals differ by one (directly or through other members of the group).
    """
    by_doc: dict[str, list[tuple[int, float, str, int]]] = {}
    for hit in hits:
        by_doc.setdefault(hit[2], []).append(hit)
    groups: list[list[tuple[int, float, str, int]]] = []
    for members in by_doc.values():
        members.sort(key=lambda h: h[3])
        current = [members[0]]
        for hit in members[1:]:
            if hit[3] - current[-1][3] == 1:
                current.append(hit)
            else:
                groups.append(current)
                current = [hit]
        groups.append(current)
    groups.sort(key=lambda g: -max(h[1] for h in g))
    return groups
