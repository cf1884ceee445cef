"""The stand-ins `vernat bench` runs in the NAT's place, in the same process layout,
loop, AF_XDP ring code, batching and placement as `vernat run` (vernat/live/session.py):
only the function the ring code calls once per batch differs.

- noop: every frame forwarded unchanged to the other side (the I/O ceiling);
- unverified: vernat/baseline/plain_nat.py, the same semantics on a typed dict.

`python -m vernat.bench.variants noop|unverified run --inside IF1 --outside IF2 ...`
takes `vernat run`'s operator-mode flags.
"""

import sys

import numba

from vernat.baseline import plain_nat
from vernat.nat import constants as C
from vernat.nat.engine import Nat


@numba.njit(inline="always")
def noop_batch(buf, offs, lens, times, sides, count, cfg, clock, tcp, udp,
               verdicts, reasons):
    """process_batch's signature; every frame goes to the other side untouched."""
    for k in range(count):
        reasons[k] = C.FORWARD
        verdicts[k] = C.TO_INSIDE if sides[k] else C.TO_OUTSIDE
    return count


class StandInNat(Nat):
    """A Nat whose data plane calls a stand-in instead of the verified entry point."""

    def __init__(self, config, kind):
        super().__init__(config)
        self.kind = kind
        if kind == "noop":
            self.batch = noop_batch
        elif kind == "unverified":
            self.batch = plain_nat.process_batch
            self.tcp = plain_nat.new_state(config.capacity)
            self.udp = plain_nat.new_state(config.capacity)
        else:
            raise ValueError(f"unknown stand-in {kind!r}")

    def flow_counts(self):
        if self.kind == "noop":
            return {"tcp": 0, "udp": 0}
        return {"tcp": int(plain_nat.flow_count(self.tcp)),
                "udp": int(plain_nat.flow_count(self.udp))}

    def flows(self):
        return {"tcp": {}, "udp": {}}


KINDS = ("noop", "unverified")


def main(argv=None):
    from vernat import cli
    from vernat.live import operator, session
    from vernat.live.system import RunError

    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in KINDS:
        print(f"usage: python -m vernat.bench.variants {'|'.join(KINDS)} run --inside IF1 "
              f"--outside IF2 [vernat run's flags]", file=sys.stderr)
        return 2
    kind = argv.pop(0)
    try:
        args = cli.make_parser().parse_args(argv)
        config, inside, outside = operator.settings(args)
        summary = session.serve(config, inside, outside, io="xdp", xdp_mode=args.xdp_mode,
                                duration=args.duration, stats_path=args.stats_file,
                                explicit_io=True, cpu=args.cpu,
                                nat=StandInNat(config, kind), busy_poll=args.busy_poll)
    except (RunError, cli.UsageError) as e:
        print(f"vernat bench ({kind}): error: {e}", file=sys.stderr)
        return 1
    if args.summary_json:
        cli.write_json(args.summary_json, summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
