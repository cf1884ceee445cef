from typing import List, NamedTuple
from nagini_contracts.contracts import *
from nagini_contracts.adt import ADT

# t = [cap, count, oldest, newest, (k1, k2, mac, ls) x cap, (prev, next) x cap]
H = 4

class Tab_ADT(ADT):
    pass

class Tab(Tab_ADT, NamedTuple('Tab', [('cap', int), ('count', int), ('oldest', int), ('newest', int),
                                      ('rec', PSeq[int]), ('links', PSeq[int])])):
    pass


@Pure
def geo(t: List[int]) -> bool:
    Requires(Acc(list_pred(t), 1/2))
    Decreases(None)
    return len(t) >= H and t[0] >= 1 and len(t) == H + 6 * t[0]


@Pure
def links_ok(t: List[int]) -> bool:
    Requires(Acc(list_pred(t), 1/2) and geo(t))
    Decreases(None)
    return (-1 <= t[2] and t[2] < t[0] and -1 <= t[3] and t[3] < t[0] and
            Forall(int, lambda k: Implies(H + 4 * t[0] <= k and k < len(t), -1 <= t[k] and t[k] < t[0])))


@Pure
def state(t: List[int]) -> Tab:
    Requires(Acc(list_pred(t), 1/2) and geo(t))
    Decreases(None)
    return Tab(t[0], t[1], t[2], t[3], ToSeq(t).drop(H).take(4 * t[0]), ToSeq(t).drop(H + 4 * t[0]))


@Pure
def at(s: PSeq[int], k: int) -> int:
    Decreases(None)
    return s[k] if 0 <= k and k < len(s) else -1


@Pure
def upd(s: PSeq[int], k: int, v: int) -> PSeq[int]:
    Decreases(None)
    return s.update(k, v) if 0 <= k and k < len(s) else s


@Pure
def without_oldest(A: Tab) -> Tab:
    """The list without its first element: its record and links reset."""
    Decreases(None)
    return Tab(A.cap, A.count - 1,
               at(A.links, 2 * A.oldest + 1),
               -1 if at(A.links, 2 * A.oldest + 1) == -1 else A.newest,
               upd(upd(upd(upd(A.rec, 4 * A.oldest, 0), 4 * A.oldest + 1, 0), 4 * A.oldest + 2, 0),
                   4 * A.oldest + 3, -1),
               upd(upd(upd(A.links, 2 * at(A.links, 2 * A.oldest + 1), -1), 2 * A.oldest, -1),
                   2 * A.oldest + 1, -1))


@Pure
def expired(A: Tab, bound: int, fuel: int) -> Tab:
    Requires(fuel >= 0)
    Decreases(fuel)
    if fuel == 0 or A.oldest == -1:
        return A
    if at(A.rec, 4 * A.oldest + 3) > bound:
        return A
    return expired(without_oldest(A), bound, fuel - 1)


def free_oldest(t: List[int]) -> int:
    Requires(Acc(list_pred(t)) and geo(t) and links_ok(t) and t[2] != -1)
    Ensures(Acc(list_pred(t)) and geo(t))
    Ensures(state(t) == without_oldest(Old(state(t))))
    i = t[2]
    cap = t[0]
    n = t[H + 4 * cap + 2 * i + 1]
    r = H + 4 * i
    t[r] = 0
    t[r + 1] = 0
    t[r + 2] = 0
    t[r + 3] = -1
    t[2] = n
    if n == -1:
        t[3] = -1
    else:
        t[H + 4 * cap + 2 * n] = -1
    t[H + 4 * cap + 2 * i] = -1
    t[H + 4 * cap + 2 * i + 1] = -1
    t[1] = t[1] - 1
    Assert(state(t).rec == Old(state(t)).rec.update(4 * i, 0).update(4 * i + 1, 0).update(4 * i + 2, 0).update(4 * i + 3, -1))
    Assert(Implies(n == -1, state(t).links == Old(state(t)).links.update(2 * i, -1).update(2 * i + 1, -1)))
    Assert(Implies(n != -1, state(t).links == Old(state(t)).links.update(2 * n, -1).update(2 * i, -1).update(2 * i + 1, -1)))
    return i


def expire(t: List[int], bound: int) -> int:
    Requires(Acc(list_pred(t)) and geo(t) and links_ok(t))
    Ensures(Acc(list_pred(t)) and geo(t) and links_ok(t))
    Ensures(state(t) == expired(Old(state(t)), bound, t[0]))
    removed = 0
    cap = t[0]
    for step in range(cap):
        Invariant(Acc(list_pred(t)) and geo(t) and links_ok(t) and t[0] == cap)
        Invariant(expired(state(t), bound, cap - len(Previous(step))) == expired(Old(state(t)), bound, cap))
        i = t[2]
        if i < 0:
            break
        if t[H + 4 * i + 3] > bound:
            break
        free_oldest(t)
        removed += 1
    return removed
