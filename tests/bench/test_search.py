"""The live benchmark's arithmetic, on fake devices: no network, no timing."""

import pytest

from vernat.bench import search


def device(capacity, generator=10**9, seconds=1.0):
    """A trial function: the generator offers min(rate, generator) frames/s; the device
    forwards up to `capacity` frames/s and loses the rest."""
    def trial(rate):
        offered = min(rate, generator) * seconds
        return offered, min(offered, capacity * seconds), seconds
    return trial


@pytest.mark.parametrize("capacity", [1, 1234, 250_000, 499_999, 700_000])
def test_search_finds_the_capacity_within_its_resolution(capacity):
    high, steps = 1_000_000, 12
    found = search.loss_free_search(device(capacity), high, steps)
    assert found["rate"] <= capacity
    assert capacity - found["rate"] <= high / 2 ** (steps - 1)
    assert not found["short"]
    assert len(found["trials"]) == steps


def test_a_device_faster_than_the_highest_rate_takes_one_trial():
    found = search.loss_free_search(device(2_000_000), 1_000_000, 7)
    assert found["rate"] == 1_000_000 and len(found["trials"]) == 1


def test_loss_just_under_the_limit_is_lossless_and_at_it_is_not():
    assert search.lossless(100_000, 99_901)           # 0.099 % lost
    assert not search.lossless(100_000, 99_900)       # 0.1 %
    assert not search.lossless(0, 0)                  # nothing offered: no result


def test_a_device_that_loses_everything_gets_zero():
    found = search.loss_free_search(device(0), 1_000_000, 5)
    assert found["rate"] == 0


def test_a_generator_that_cannot_offer_the_rate_is_flagged():
    # the device keeps up with everything; the generator tops out at 600 kpps
    found = search.loss_free_search(device(10**9, generator=600_000), 1_000_000, 7)
    assert found["rate"] == 600_000 and found["short"]
    assert search.generator_bound(found["rate"], calibration=0, short=found["short"])


def test_generator_bound_within_ten_percent_of_the_calibration():
    assert search.generator_bound(540, 600)           # exactly 10 % below
    assert search.generator_bound(650, 600)
    assert not search.generator_bound(539, 600)
    assert not search.generator_bound(539, 0)


def test_percentile_nearest_rank():
    values = list(range(1, 101))
    assert search.percentile(values, 50) == 50
    assert search.percentile(values, 99) == 99
    assert search.percentile([7], 99) == 7
    assert search.percentile([], 50) is None


def result(kpps, bound=False, busy=None, p50=None):
    return {"loss_free_kpps": {"1": kpps}, "generator_bound": {"1": bound},
            "busy_ns_per_packet": {"1": busy}, "latency_p50_us": p50 or {},
            "latency_p99_us": {}}


def test_targets_say_met_missed_and_by_how_much():
    rows = search.targets({
        "vernat": result(400, p50={"1": 10.0, "99": 10.4}),
        "linux": result(500, p50={"1": 9.0, "99": 9.0}),
        "noop": result(400), "unverified": result(380)})
    by = {r["target"]: r for r in rows}
    linux = by["vernat / linux loss-free, 1 flows"]
    assert linux["met"] is False and linux["value"] == 0.8 and "20.0 %" in linux["note"]
    assert by["vernat / noop loss-free, 1 flows"]["met"] is True
    assert by["vernat / unverified loss-free, 1 flows"]["met"] is True
    assert by["vernat p50 <= linux p50, 1 % occupancy"]["met"] is False
    flat = by["vernat p50 flat from lowest to highest occupancy"]
    assert flat["met"] is True and flat["value"] == 0.04


def test_targets_between_two_generator_bound_devices_are_inconclusive():
    rows = search.targets({"vernat": result(600, bound=True, busy=1000),
                           "noop": result(610, bound=True, busy=900)})
    (row,) = rows
    assert row["met"] is None and "busy ns/packet 1000 vs 900" in row["note"]


def test_a_lossy_trial_is_confirmed_before_it_counts():
    # a device that forwards 300 kpps but stalls once, in its first trial below that
    calls, stalled = [], []

    def trial(rate):
        calls.append(rate)
        if rate <= 300_000 and not stalled:
            stalled.append(rate)
            return rate, 0, 1.0
        return rate, min(rate, 300_000), 1.0
    found = search.loss_free_search(trial, 1_000_000, 8, confirm=1)
    again = calls.index(stalled[0])
    assert calls[again + 1] == stalled[0]            # the stalled trial was repeated
    assert 300_000 - found["rate"] <= 1_000_000 / 2 ** 7
    steady = search.loss_free_search(device(300_000), 1_000_000, 8, confirm=1)
    assert len(steady["trials"]) > 8                 # every real loss was tried twice
    assert steady["rate"] == found["rate"]
