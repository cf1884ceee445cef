from typing import List
from nagini_contracts.contracts import *

# t = [n, v0 .. v(n-1)]; v >= 0 live (value = rank/last_seen), -1 free.

@Pure
def st(t: List[int]) -> PSeq[int]:
    Requires(Acc(list_pred(t), 1/2) and len(t) >= 1)
    Ensures(len(Result()) == len(t) - 1)
    return ToSeq(t).drop(1)


@Pure
def argmin_from(s: PSeq[int], j: int) -> int:
    Requires(0 <= j and j <= len(s))
    Decreases(len(s) - j)
    Ensures(-1 <= Result() and Result() < len(s))
    Ensures(Implies(Result() >= 0, j <= Result() and s[Result()] >= 0))
    Ensures(Implies(Result() >= 0, Forall(int, lambda k: (Implies(j <= k and k < len(s) and s[k] >= 0,
                                                           s[Result()] <= s[k]), [[s[k]]]))))
    Ensures(Implies(Result() == -1, Forall(int, lambda k: (Implies(j <= k and k < len(s), s[k] < 0), [[s[k]]]))))
    if j == len(s):
        return -1
    return (j if s[j] >= 0 and (argmin_from(s, j + 1) == -1 or s[j] <= s[argmin_from(s, j + 1)])
            else argmin_from(s, j + 1))


@Pure
def expired(s: PSeq[int], bound: int, fuel: int) -> PSeq[int]:
    """Free, oldest first, every entry with value <= bound (at most fuel of them)."""
    Requires(fuel >= 0)
    Decreases(fuel)
    Ensures(len(Result()) == len(s))
    return (s if fuel == 0 or argmin_from(s, 0) == -1 or s[argmin_from(s, 0)] > bound
            else expired(s.update(argmin_from(s, 0), -1), bound, fuel - 1))


@ContractOnly
def oldest(t: List[int]) -> int:
    """Taken by its contract in this experiment (the real allocator proves its own)."""
    Requires(Acc(list_pred(t), 1/2) and len(t) >= 1)
    Ensures(Acc(list_pred(t), 1/2) and len(t) >= 1)
    Ensures(Result() == argmin_from(st(t), 0))


def expire(t: List[int], bound: int) -> int:
    Requires(Acc(list_pred(t)) and len(t) >= 1)
    Ensures(Acc(list_pred(t)) and len(t) == Old(len(t)))
    Ensures(st(t) == expired(Old(st(t)), bound, len(t) - 1))
    removed = 0
    n = len(t) - 1
    for step in range(n):
        Invariant(Acc(list_pred(t)) and len(t) == n + 1)
        Invariant(expired(st(t), bound, n - len(Previous(step))) == expired(Old(st(t)), bound, n))
        i = oldest(t)
        if i < 0:
            break
        if t[1 + i] > bound:
            break
        Assert(expired(st(t), bound, n - len(Previous(step))) == expired(st(t).update(i, -1), bound, n - len(Previous(step)) - 1))
        s0 = st(t)
        t[1 + i] = -1
        Assert(st(t) == s0.update(i, -1))
        removed += 1
    return removed
