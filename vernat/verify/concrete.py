"""From a symbolic path to concrete frames.

A path's model fixes the frame, the configuration and what every state-
library call answered. To run that path for real we also need a NAT whose
state gives those answers: a *prelude* of ordinary outbound frames that
creates, from an empty NAT, exactly the flows the models assumed (fillers
for the lower indices, then the flow itself). The model is asked to stay
realistic so that such a prelude exists: the frame starts the buffer and is
at most MAX_FRAME bytes, indices and the port range are small.

The scenario is then run through the numba build and the CPython run of the
same source, and both must agree with what the symbolic path predicts
(verdict and output bytes): this ties the compiled binary to the proven
paths. The same scenario, written as pcaps, is what a counterexample is.
"""

import ipaddress
import os
import struct

import z3

from vernat.io.pcap import write_pcap
from vernat.nat import constants as C
from vernat.nat.config import NatConfig, format_mac
from vernat.nat.engine import Nat, frames_to_batch
from vernat.verify.properties import named_positions
from vernat.verify.values import WINDOW, bv

MAX_FRAME = 200
MAX_INDEX = 3


class Scenario:
    def __init__(self, config, prelude, frame, side, time, clock, expected_reason,
                 expected_output):
        self.config, self.prelude, self.frame = config, prelude, frame
        self.side, self.time, self.clock = side, time, clock
        self.expected_reason, self.expected_output = expected_reason, expected_output

    def describe(self):
        return {"config": self.config.describe(), "side": "outside" if self.side else "inside",
                "time_ns": self.time, "clock_ns": self.clock, "frame_hex": self.frame.hex(),
                "prelude_frames": len(self.prelude),
                "expected_reason": C.REASON_NAMES[self.expected_reason]
                if isinstance(self.expected_reason, int) else None}


def realism(ex, path):
    """Constraints that make the path's model reproducible from an empty NAT."""
    c = path.context
    cfg = c["cfg"].items
    out = [c["off"] == 0, c["buf"].length == c["length"], c["length"] <= MAX_FRAME,
           cfg[C.CFG_PORT_END] - cfg[C.CFG_PORT_START] <= MAX_INDEX,
           c["time"] <= (1 << 40), c["clock0"] <= (1 << 40)]
    for e in path.trace:
        if e.call == "flow_lookup":
            out.append(e.result <= MAX_INDEX)
        elif e.call == "flow_allocate":
            out.append(z3.Or(e.result == -1, e.result == 0))
    return out


def _val(model, e):
    v = model.eval(bv(e), model_completion=True)
    return v.as_signed_long()


def _bool(model, e):
    return z3.is_true(model.eval(e, model_completion=True))


def scenario_from_model(path, model, expected=True):
    """The concrete scenario of a path under a model (None if the path is
    about the buffer descriptor itself, which no frame can show)."""
    c = path.context
    length, off = _val(model, c["length"]), _val(model, c["off"])
    if off != 0 or length < 0 or length > MAX_FRAME:
        return None
    cfg = [_val(model, x) for x in c["cfg"].items]
    config = NatConfig(external_ip=cfg[C.CFG_EXTERNAL_IP], port_start=cfg[C.CFG_PORT_START],
                       port_end=cfg[C.CFG_PORT_END], udp_timeout_ns=cfg[C.CFG_UDP_TIMEOUT],
                       tcp_timeout_ns=cfg[C.CFG_TCP_TIMEOUT], inside_mac=cfg[C.CFG_INSIDE_MAC],
                       outside_mac=cfg[C.CFG_OUTSIDE_MAC], gateway_mac=cfg[C.CFG_GATEWAY_MAC])
    original = c["buf"].original
    frame = bytes(_val(model, z3.ZeroExt(56, original[k])) for k in range(min(length, WINDOW)))
    frame += bytes(max(0, length - WINDOW))
    time, clock = _val(model, c["time"]), _val(model, c["clock0"])
    side = 1 if _val(model, c["side"]) != 0 else 0
    now = max(time, clock)
    if expected:
        prelude = prelude_frames(path, model, now)
    else:
        # a violation: the prelude's flows are dated 1 ns before the frame
        # (when no timeout is that short), so that a refresh the spec does
        # not make changes something a concrete run can see
        earlier = 1 <= now and min(config.udp_timeout_ns, config.tcp_timeout_ns) >= 2
        prelude = prelude_frames(path, model, now - 1 if earlier else now)
        prelude = expiry_witnesses(path, model, config, now, prelude) + prelude
    out = None
    if expected and isinstance(path.result, int) and path.result == C.FORWARD:
        items = path.final_items
        out = bytes(_val(model, z3.ZeroExt(56, items[k])) for k in range(min(length, WINDOW)))
        out += bytes(max(0, length - WINDOW))
    return Scenario(config, prelude, frame, side, time, clock,
                    path.result if isinstance(path.result, int) else None, out)


def expiry_witnesses(path, model, config, now, prelude):
    """For a violation: when the code expired a table with another time or
    timeout than the spec's (now, the configured timeout), a flow dated so
    that exactly one of the two expires it, created before the rest of the
    prelude, so that a concrete run shows the difference (the path's models
    know no such flow: an expiry difference is invisible without one). Only
    for a table the prelude leaves empty, whose first index the witness can
    take. A flow expires when now - last_seen >= timeout, i.e. last_seen <=
    now - timeout: dated at the larger of the two bounds (at most 1 ns before
    the frame), it expires on that side only."""
    used = {6 if f[23] == 6 else 17 for _, _, f in prelude}
    code = {}                          # table -> the code's bound (none: never expires)
    for e in path.trace:
        if e.call == "flow_expire":
            code[e.table.name] = _val(model, e.args[0]) - _val(model, e.args[1])
    out = []
    for table, proto, timeout in (("tcp", 6, config.tcp_timeout_ns),
                                  ("udp", 17, config.udp_timeout_ns)):
        spec = now - timeout
        lo, hi = sorted((code.get(table, spec - 1), spec))
        born = min(hi, now - 1)             # not after the rest of the prelude
        if code.get(table) != spec and proto not in used and 0 <= born and lo < born:
            out.append((0, born, flow_frame(proto, filler_key1(99), 0x0A0000010001,
                                            0x02000000AA00)))
    return sorted(out, key=lambda x: x[1])


def violation_realism(path):
    """For a violation's model: the time is past both timeouts, and so is
    every expiry's, so that expiry_witnesses can date a flow between the
    code's bound and the spec's; and there is room to date the prelude before
    the frame (scenario_from_model)."""
    c = path.context
    cfg = c["cfg"].items
    out = [cfg[C.CFG_TCP_TIMEOUT] >= 2, cfg[C.CFG_UDP_TIMEOUT] >= 2,
           c["time"] > cfg[C.CFG_TCP_TIMEOUT], c["time"] > cfg[C.CFG_UDP_TIMEOUT]]
    for e in path.trace:
        if e.call == "flow_expire":
            out.append(e.args[0] >= e.args[1])
    return out


def prelude_frames(path, model, now):
    """Outbound frames that build the flows the path's models assumed."""
    wanted = {}                                   # (table, index) -> [key1, key2, mac]
    full = set()                                  # tables the path found full
    for e in path.trace:
        t = e.table.name
        if e.call == "flow_lookup":
            i = _val(model, e.result)
            if i >= 0:
                wanted[(t, i)] = [_val(model, e.args[0]), _val(model, e.args[1]), None]
        elif e.call == "flow_is_allocated" and _bool(model, e.result):
            wanted.setdefault((t, _val(model, e.args[0])), [None, None, None])
        elif e.call in ("flow_key1", "flow_key2", "flow_mac"):
            slot = wanted.setdefault((t, _val(model, e.args[0])), [None, None, None])
            slot[("flow_key1", "flow_key2", "flow_mac").index(e.call)] = _val(model, e.result)
        elif e.call == "flow_allocate" and _val(model, e.result) == -1:
            full.add(t)
    frames = []
    for table in ("tcp", "udp"):
        proto = 6 if table == "tcp" else 17
        if table in full:
            cfg = path.context["cfg"].items
            n = _val(model, cfg[C.CFG_PORT_END]) - _val(model, cfg[C.CFG_PORT_START]) + 1
            frames += [filler(proto, k) for k in range(n)]
            continue
        indices = sorted(i for (t, i) in wanted if t == table)
        top = max(indices, default=-1)
        for i in range(top + 1):
            if (table, i) in wanted:
                k1, k2, mac = wanted[(table, i)]
                frames.append(flow_frame(proto, k1 if k1 is not None else filler_key1(i),
                                         k2 if k2 is not None else 0x0A0000010001,
                                         mac if mac is not None else 0x02000000AA00))
            else:
                frames.append(filler(proto, i))
    return [(0, now, f) for f in frames]


def filler_key1(k):
    return ((0xC6120000 | k) << 16) | 1           # 198.18.0.k:1, a benchmarking range


def filler(proto, k):
    return flow_frame(proto, filler_key1(k), (0xC0000201 << 16) | 9, 0x020000000F00 | k)


def flow_frame(proto, key1, key2, mac):
    """A valid outbound frame of the flow (key1, key2) sent by `mac`."""
    src, sport = key1 >> 16, key1 & 0xFFFF
    dst, dport = key2 >> 16, key2 & 0xFFFF
    l4 = struct.pack(">HH", sport, dport)
    if proto == 6:
        l4 += struct.pack(">IIBBHHH", 0, 0, 0x50, 0x02, 1024, 0, 0)
    else:
        l4 += struct.pack(">HH", 8, 0)
    ip = bytearray(struct.pack(">BBHHHBBHII", 0x45, 0, 20 + len(l4), 0, 0, 64, proto, 0, src, dst))
    total = sum(struct.unpack(">10H", bytes(ip)))
    total = (total & 0xFFFF) + (total >> 16)
    total = (total & 0xFFFF) + (total >> 16)
    ip[10:12] = struct.pack(">H", 0xFFFF ^ total)
    eth = (0x020000000001).to_bytes(6, "big") + mac.to_bytes(6, "big") + b"\x08\x00"
    return eth + bytes(ip) + l4


def run_scenario(scenario, jit, sources=None):
    """(reason, output bytes, prelude reasons) of the scenario on one build."""
    nat = Nat(scenario.config, jit=jit, salt=1, sources=sources)
    prelude_reasons = []
    for side, time, frame in scenario.prelude:
        batch = frames_to_batch([frame], [time], [side])
        _, reasons = nat.process_batch(*batch)
        prelude_reasons.append(int(reasons[0]))
    nat.clock[0] = max(int(nat.clock[0]), scenario.clock)
    batch = frames_to_batch([scenario.frame], [scenario.time], [scenario.side])
    _, reasons = nat.process_batch(*batch)
    return int(reasons[0]), bytes(batch[0]), prelude_reasons


def warm():
    """Compile the numba build (one frame through it), so that processes
    forked afterwards share the compiled code instead of each compiling it."""
    config = NatConfig(external_ip=0xCB007101, port_start=1024, port_end=1027)
    nat = Nat(config, jit=True, salt=1)
    nat.process_batch(*frames_to_batch([flow_frame(17, filler_key1(1), 1 << 16, 2)]))


def check_path(ex, path):
    """Concretize one path and run it on both builds. Returns (status, detail):
    "agree", "skipped" (descriptor paths, or no realistic model) or "DISAGREE"."""
    if path.result == C.DROP_BAD_DESCRIPTOR:
        return "skipped", "a buffer-descriptor path: no frame can show it"
    ex.path = path
    model = ex._check(*realism(ex, path))
    if model is None:
        return "skipped", "no model within the concretization limits"
    sc = scenario_from_model(path, model)
    if sc is None:
        return "skipped", "a buffer-descriptor path: no frame can show it"
    results = {}
    for jit in (True, False):
        reason, out, pre = run_scenario(sc, jit)
        dropped = sorted({C.REASON_NAMES[r] for r in pre if r != C.FORWARD})
        if dropped:
            return "DISAGREE", f"a prelude frame was dropped ({', '.join(dropped)})"
        results[jit] = (reason, out)
    if results[True] != results[False]:
        return "DISAGREE", "numba and CPython differ"
    reason, out = results[True]
    if reason != sc.expected_reason:
        return "DISAGREE", (f"symbolic path predicts {C.REASON_NAMES[sc.expected_reason]}, "
                            f"the build gives {C.REASON_NAMES[reason]}")
    if sc.expected_output is not None and out != sc.expected_output:
        return "DISAGREE", "output bytes differ from the symbolic prediction"
    return "agree", ""


def violation_scenario(ex, path):
    """The concrete scenario of a path's violation (realistic if possible),
    or None when no frame can show it."""
    v = path.violation
    ex.path = path
    model = ex._check(*realism(ex, path), *violation_realism(path), *v.goal) or \
        ex._check(*realism(ex, path), *v.goal) or v.model
    return scenario_from_model(path, model, expected=False) if model is not None else None


def reproduce(sc, prop, sources):
    """Run a violation's scenario on the CPython build of the (mutant) source
    it was found in: "crash" when the run fails the way the property says
    (an out-of-bounds read raises in CPython), "changed bytes" when a byte no
    rule names changed, else None."""
    try:
        reason, out, _ = run_scenario(sc, jit=False, sources=sources)
    except (IndexError, ValueError, OverflowError) as e:
        return f"crash: {type(e).__name__}: {e}"
    if reason == C.FORWARD and prop == "every other byte unchanged":
        named = named_positions(sc.frame[14] & 0x0F, sc.frame[23] == 17, sc.side == 0)
        odd = [k for k in range(len(out)) if out[k] != sc.frame[k] and k not in named]
        if odd:
            return f"changed bytes at {odd}"
    return None


def write_counterexample(sc, directory, sources=None):
    """Write a violation's scenario as files `vernat replay` takes:
    inside.pcap and outside.pcap (the prelude that builds the state, then the
    frame) and nat.toml, plus the verified source it was found in when that
    is not the installed one (source/). Returns the replay command."""
    os.makedirs(directory, exist_ok=True)
    by_side = {0: [], 1: []}
    for side, time, frame in sc.prelude:
        by_side[side].append((time, frame))
    by_side[sc.side].append((sc.time, sc.frame))
    paths = {}
    for side, name in ((0, "inside.pcap"), (1, "outside.pcap")):
        items = by_side[side]
        target = os.path.join(directory, name)
        buf, offs, lens, _, _ = frames_to_batch([f for _, f in items])
        write_pcap(target, buf, offs, lens, [t for t, _ in items])
        paths[side] = target
    cfg = sc.config
    toml = os.path.join(directory, "nat.toml")
    with open(toml, "w") as f:
        f.write(f'external-ip = "{ipaddress.IPv4Address(cfg.external_ip)}"\n'
                f'port-range = "{cfg.port_start}-{cfg.port_end}"\n'
                f"udp-timeout = {cfg.udp_timeout_ns / 1e9!r}\n"
                f"tcp-timeout = {cfg.tcp_timeout_ns / 1e9!r}\n"
                f'inside-mac = "{format_mac(cfg.inside_mac)}"\n'
                f'outside-mac = "{format_mac(cfg.outside_mac)}"\n'
                f'gateway-mac = "{format_mac(cfg.gateway_mac)}"\n')
    command = (f"vernat replay --config {toml} --inside {paths[0]} --outside {paths[1]} "
               f"--frames")
    if sources:
        from vernat import build
        build.write_source_tree(os.path.join(directory, "source"), sources)
        command += f" --nat-source {os.path.join(directory, 'source')}"
    return command


def spec_flows(table):
    """The spec's abstract table in the shape of Nat.flows()."""
    from vernat.spec import abstract_state as A
    return {i: ((A.st_inside_ip(table, i) << 16) | A.st_inside_port(table, i),
                (A.st_remote_ip(table, i) << 16) | A.st_remote_port(table, i),
                A.st_mac(table, i), A.st_last_seen(table, i))
            for i in sorted(table.flows)}


def run_spec(scenario):
    """The executable spec under CPython on the scenario: (reason of the last
    frame, its output, flows afterwards, reasons of the prelude)."""
    import numpy as np
    from vernat.spec import abstract_state as A
    from vernat.spec.rfc3022 import spec_frame
    cfg = scenario.config
    cfg_array = cfg.to_array()
    clock = np.zeros(1, dtype=np.int64)
    tcp, udp = A.new_table(cfg.capacity), A.new_table(cfg.capacity)

    def one(frame, time, side):
        fa = np.frombuffer(bytes(frame), dtype=np.uint8).copy()
        out = fa.copy()
        return int(spec_frame(fa, len(fa), int(time), int(side), cfg_array, clock, tcp, udp,
                              out)), out.tobytes()
    prelude = [one(f, t, s)[0] for s, t, f in scenario.prelude]
    clock[0] = max(int(clock[0]), scenario.clock)
    reason, out = one(scenario.frame, scenario.time, scenario.side)
    return reason, out, {"tcp": spec_flows(tcp), "udp": spec_flows(udp)}, prelude


def code_vs_spec(scenario, sources=None):
    """Run the scenario on the CPython build of the (mutant) source and on
    the spec: a description of what differs, or None if nothing does."""
    nat = Nat(scenario.config, jit=False, salt=1, sources=sources)
    try:
        for side, time, frame in scenario.prelude:
            nat.process_batch(*frames_to_batch([frame], [time], [side]))
        nat.clock[0] = max(int(nat.clock[0]), scenario.clock)
        batch = frames_to_batch([scenario.frame], [scenario.time], [scenario.side])
        _, reasons = nat.process_batch(*batch)
    except (IndexError, ValueError, OverflowError) as e:
        return f"the code crashes: {type(e).__name__}: {e}"
    reason, out = int(reasons[0]), bytes(batch[0])
    want, want_out, want_flows, _ = run_spec(scenario)
    if reason != want:
        return (f"the code gives {C.REASON_NAMES[reason]}, the spec says "
                f"{C.REASON_NAMES[want]}")
    if reason == C.FORWARD and out != want_out:
        diff = [k for k in range(len(out)) if out[k] != want_out[k]]
        return f"forwarded bytes differ from the spec's at offsets {diff}"
    flows = nat.flows()
    for table in ("tcp", "udp"):
        if flows[table] != want_flows[table]:
            return (f"{table} flows afterwards differ: the code has {flows[table]}, "
                    f"the spec {want_flows[table]}")
    return None
