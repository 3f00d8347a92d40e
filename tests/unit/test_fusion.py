from assistant.retrieve.fusion import merge_adjacent, weighted_rrf


def test_weighted_rrf_prefers_items_ranked_well_by_both():
    fused = weighted_rrf([(1.0, [1, 2, 3]), (1.0, [3, 2, 9])], k=60)
    order = [p for p, _ in fused]
    assert order[0] == 2 or order[0] == 3
    assert set(order) == {1, 2, 3, 9}
    assert fused[0][1] > fused[-1][1]


def test_weight_zero_ignores_a_ranking():
    fused = weighted_rrf([(1.0, [5, 6]), (0.0, [7, 8])])
    assert [p for p, _ in fused] == [5, 6]


def test_weights_change_the_winner():
    a = weighted_rrf([(1.0, [1, 2]), (0.2, [2, 1])])
    b = weighted_rrf([(0.2, [1, 2]), (1.0, [2, 1])])
    assert a[0][0] == 1 and b[0][0] == 2


def test_merge_adjacent_groups_neighbouring_ordinals_of_one_document():
    hits = [(10, 0.9, "a", 4), (11, 0.8, "b", 1), (12, 0.7, "a", 5), (13, 0.6, "a", 9)]
    groups = merge_adjacent(hits)
    assert [[h[0] for h in g] for g in groups] == [[10, 12], [11], [13]]
