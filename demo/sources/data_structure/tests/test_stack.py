from algorithms.stack import MinStack


def test_min_follows_pops():
    s = MinStack()
    for v in (5, 2, 7):
        s.push(v)
    assert s.get_min() == 2
    s.pop()
    s.pop()
    assert s.get_min() == 5
