from typing import List, NamedTuple
from nagini_contracts.contracts import *
from nagini_contracts.adt import ADT

# t = [cap, count, (k1, k2, mac, ls) x cap, (prev, next) x cap]

class Tab_ADT(ADT):
    pass

class Tab(Tab_ADT, NamedTuple('Tab', [('cap', int), ('count', int), ('rec', PSeq[int]), ('links', PSeq[int])])):
    pass


@Pure
def ok(t: List[int]) -> bool:
    Requires(Acc(list_pred(t), 1/2))
    Decreases(None)
    return len(t) >= 2 and t[0] >= 1 and len(t) == 2 + 6 * t[0]


@Pure
def state(t: List[int]) -> Tab:
    Requires(Acc(list_pred(t), 1/2) and ok(t))
    Decreases(None)
    return Tab(t[0], t[1], ToSeq(t).drop(2).take(4 * t[0]), ToSeq(t).drop(2 + 4 * t[0]))


@Pure
def live(A: Tab, i: int) -> bool:
    Requires(len(A.rec) == 4 * A.cap)
    Decreases(None)
    return 0 <= i and i < A.cap and A.rec[4 * i + 3] != -1


@Pure
def touched(A: Tab, i: int, now: int) -> Tab:
    Requires(len(A.rec) == 4 * A.cap and 0 <= i and i < A.cap)
    Decreases(None)
    return Tab(A.cap, A.count, A.rec.update(4 * i + 3, now), A.links)


def refresh(t: List[int], i: int, now: int) -> None:
    Requires(Acc(list_pred(t)) and ok(t) and live(state(t), i) and now >= 0)
    Ensures(Acc(list_pred(t)) and ok(t))
    Ensures(state(t) == touched(Old(state(t)), i, now))
    Ensures(live(state(t), i))
    t[2 + 4 * i + 3] = now
    Assert(ToSeq(t) == Old(ToSeq(t)).update(2 + 4 * i + 3, now))
    Assert(state(t).links == Old(state(t)).links)
    Assert(state(t).rec == Old(state(t)).rec.update(4 * i + 3, now))
    Assert(state(t).cap == Old(state(t)).cap)
