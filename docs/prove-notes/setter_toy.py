from typing import List
from nagini_contracts.contracts import *


def set_word(t: List[int], w: int, v: int) -> None:
    Requires(Acc(list_pred(t)) and 0 <= w and w < len(t))
    Ensures(Acc(list_pred(t)) and len(t) == Old(len(t)))
    Ensures(ToSeq(t) == Old(ToSeq(t)).update(w, v))
    t[w] = v


def reset(t: List[int], b: int, n: int, i: int) -> None:
    Requires(Acc(list_pred(t)) and 0 <= b and 0 <= i and i < n and b + 4 * n <= len(t))
    Ensures(Acc(list_pred(t)) and len(t) == Old(len(t)))
    Ensures(ToSeq(t).drop(b).take(4 * n) == Old(ToSeq(t)).drop(b).take(4 * n).update(4 * i, 0).update(4 * i + 1, 0).update(4 * i + 2, 0).update(4 * i + 3, -1))
    r = b + 4 * i
    set_word(t, r, 0)
    set_word(t, r + 1, 0)
    set_word(t, r + 2, 0)
    set_word(t, r + 3, -1)
