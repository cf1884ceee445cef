"""The symbolic world process_frame is proven in: every byte of the frame,
its offset and length, the buffer's length, the time, the side, the clock
and every configuration value are symbolic, constrained only by the
preconditions below (what the configuration parser and the I/O layer
guarantee)."""

import z3

from vernat.nat import constants as C
from vernat.nat.config import MAX_TIMEOUT_SEC, NS_PER_SEC
from vernat.verify.values import SymBuffer, SymVector, TableRef

MAX_TIME = 1 << 62          # pcap reader and live clock stay below this
MAX_BUFFER = 1 << 48        # offsets and lengths inside a buffer: 256 TiB is plenty


def symbolic_inputs(ex):
    """Arguments for process_frame(buf, off, length, time, from_outside,
    cfg, clock, tcp, udp), with their preconditions assumed."""
    off, length, when, side = (z3.BitVec(n, 64) for n in ("off", "length", "time", "side"))
    buf = SymBuffer("buf", off)
    cfg = SymVector("cfg", [z3.BitVec(f"cfg_{n}", 64) for n in (
        "external_ip", "port_start", "port_end", "udp_timeout", "tcp_timeout",
        "inside_mac", "outside_mac", "gateway_mac")])
    clock = SymVector("clock", [z3.BitVec("clock", 64)])
    v = cfg.items
    pre = [
        buf.length >= 0, buf.length <= MAX_BUFFER,
        off >= -MAX_BUFFER, off <= MAX_BUFFER, length >= -MAX_BUFFER, length <= MAX_BUFFER,
        when >= 0, when <= MAX_TIME, clock.items[0] >= 0, clock.items[0] <= MAX_TIME,
        side >= 0, side <= 255,                                  # a uint8 flag
        v[C.CFG_EXTERNAL_IP] >= 0, v[C.CFG_EXTERNAL_IP] < (1 << 32),
        v[C.CFG_PORT_START] >= 1, v[C.CFG_PORT_START] <= v[C.CFG_PORT_END],
        v[C.CFG_PORT_END] <= 65535,
    ]
    for k in (C.CFG_UDP_TIMEOUT, C.CFG_TCP_TIMEOUT):
        pre += [v[k] >= 1, v[k] <= MAX_TIMEOUT_SEC * NS_PER_SEC]
    for k in (C.CFG_INSIDE_MAC, C.CFG_OUTSIDE_MAC, C.CFG_GATEWAY_MAC):
        pre += [v[k] >= 0, v[k] < (1 << 48)]
    for p in pre:
        ex.assume(p)
    declare = ex.bounds.declare
    declare(buf.length, 0, MAX_BUFFER)
    declare(off, -MAX_BUFFER, MAX_BUFFER)
    declare(length, -MAX_BUFFER, MAX_BUFFER)
    declare(when, 0, MAX_TIME)
    declare(clock.items[0], 0, MAX_TIME)
    declare(side, 0, 255)
    declare(v[C.CFG_EXTERNAL_IP], 0, (1 << 32) - 1)
    declare(v[C.CFG_PORT_START], 1, 65535)
    declare(v[C.CFG_PORT_END], 1, 65535)
    for k in (C.CFG_UDP_TIMEOUT, C.CFG_TCP_TIMEOUT):
        declare(v[k], 1, MAX_TIMEOUT_SEC * NS_PER_SEC)
    for k in (C.CFG_INSIDE_MAC, C.CFG_OUTSIDE_MAC, C.CFG_GATEWAY_MAC):
        declare(v[k], 0, (1 << 48) - 1)
    ex.arrays = [buf, cfg, clock]
    # clock: the array (its item ends as the path leaves it); clock0: its value on entry
    ex.context = {"cfg": cfg, "buf": buf, "clock": clock, "clock0": clock.items[0],
                  "off": off, "length": length, "time": when, "side": side}
    return [buf, off, length, when, side, cfg, clock, TableRef("tcp"), TableRef("udp")]


def prefetch_inputs(ex):
    """Arguments for prefetch_frame(buf, off, length, from_outside, cfg, tcp,
    udp): the same world as process_frame's."""
    buf, off, length, _, side, cfg, _, tcp, udp = symbolic_inputs(ex)
    return [buf, off, length, side, cfg, tcp, udp]
