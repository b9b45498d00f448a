from kodcode.hashing import content_hash, derive_seed, shard_of
from kodcode.llm.request import Request


def test_shards_are_stable_and_in_range():
    ids = [f"Leetcode_{i:08d}_I" for i in range(200)]
    first = [shard_of(i, 8) for i in ids]
    assert first == [shard_of(i, 8) for i in ids] and set(first) == set(range(8))
    assert shard_of("x", 1) == 0


def test_seeds_depend_on_stage_item_attempt_only():
    a = derive_seed(1, "solutions", "Q_1", 0)
    assert a == derive_seed(1, "solutions", "Q_1", 0)
    assert len({a, derive_seed(1, "solutions", "Q_1", 1), derive_seed(1, "sft", "Q_1", 0),
                derive_seed(2, "solutions", "Q_1", 0)}) == 4
    assert 0 <= a < 2**31


def test_request_key_ignores_provenance_fields():
    base = dict(model="m", messages=(("user", "hi"),), seed=5)
    r1 = Request(stage="a", item_id="x", sample=0, **base)
    r2 = Request(stage="b", item_id="y", sample=0, **base)
    r3 = Request(stage="a", item_id="x", sample=1, **base)
    assert r1.key == r2.key != r3.key
    assert Request.from_dict(r1.to_dict()) == r1
    assert content_hash({"a": 1, "b": 2}) == content_hash({"b": 2, "a": 1})
