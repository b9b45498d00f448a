from kodcode.testinfo import align_entry_point, test_info as solution_info, top_level_functions


def test_test_info_matches_upstream_release(upstream):
    """Upstream's released test_info for the SFT rows, recomputed from each row's solution."""
    rows = [r["metadata"] for r in upstream("KodCode_leetcode_*_prepared_results0.jsonl")]
    compared = 0
    for m in rows:
        assert solution_info(m["solution"]) == m["test_info"], m["question_id"]
        compared += m["test_info"] is not None
    assert compared >= 10


def test_test_info_shapes():
    info = solution_info('def f(a, b=2, *args, c, **kw):\n    """Doc."""\n    def g(x):\n        return x\n    return g(a)\n')
    assert info == [{"function_name": "f", "parameter_list": "(a, b, *args, c, **kw)",
                     "function_declaration": "def f(a, b, *args, c, **kw):", "docstring": "Doc."},
                    {"function_name": "g", "parameter_list": "(x)", "function_declaration": "def g(x):",
                     "docstring": None}]
    # a class anywhere: upstream leaves test_info empty (its methods are the interface)
    assert solution_info("class Node:\n    pass\n\ndef size(n):\n    return 1\n") is None
    assert solution_info("def broken(:\n") is None


def test_entry_point_renamed_when_single_function_differs():
    code = "def solve(xs):\n    return solve_rec(xs) if False else sorted(xs)\n\ndef solve_rec(x):\n    return x\n"
    assert align_entry_point(code, ["sort_list"]) == code  # two functions: left alone
    one = "def solve(n):\n    return 1 if n < 2 else n * solve(n - 1)\n"
    renamed = align_entry_point(one, ["factorial"])
    assert top_level_functions(renamed) == ["factorial"] and "factorial(n - 1)" in renamed
    assert align_entry_point(one, ["solve"]) == one
    assert align_entry_point(one, ["a", "b"]) == one
