"""``kodcode plan``: what a run will ask for and take, before it starts.

Per subset and LLM stage (questions or, for Filter, tags; solutions; style; sft) the plan counts
the requests the config makes, carried down the chain by each step's survival share (answers
with a question, questions dedup keeps, questions verified, style conversions that parse). Those
shares, the seed counts, the token averages and the bytes per stored record are measured when the
run has results (``results/<subset>/**.stats.json``) or the store has records, else taken from
``kodcode.plan.defaults``, which says where each default comes from. The plan prints which.

Attempts: the paper allows *up to* n attempts per question; this workflow asks for all n at once
(``verify`` needs the full pass sequence for difficulty and pass@k), so the planned solution
requests are exactly ``verify.attempts`` per deduplicated question: expected and worst case are
one number. Executor runs are the answers that parse; CPU-hours count a timed-out attempt at the
full ``executor.limits.timeout_s`` and the others at ``plan.executor.attempts_per_s_per_core``.
"""

from .estimate import Inputs, Plan, Row, make_plan, subset_requests
from .measure import StoreSample, SubsetResults, read_results, sample_store

__all__ = ["Inputs", "Plan", "Row", "StoreSample", "SubsetResults", "make_plan", "read_results", "sample_store",
           "subset_requests"]
