"""The `vernat` command line. Every user error is one line on stderr and a
non-zero exit (2 for bad input), never a traceback."""

import argparse
import contextlib
import json
import os
import sys

from vernat.nat.config import ConfigError, KEYS, resolve

EXIT_USAGE = 2


class UsageError(Exception):
    """Bad flags or input; the message is one line for the user."""


class Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(message)


def add_nat_options(p):
    p.add_argument("--config", metavar="FILE", help="TOML file; keys are the flag names below")
    p.add_argument("--external-ip", metavar="A.B.C.D", help="the NAT's address on the outside")
    p.add_argument("--port-range", metavar="S-E", help="external ports (default 1024-65535)")
    p.add_argument("--udp-timeout", metavar="SEC", help="UDP idle timeout (default 300)")
    p.add_argument("--tcp-timeout", metavar="SEC", help="TCP idle timeout (default 7440)")
    p.add_argument("--inside-mac", metavar="MAC", help="the NAT's own MAC on the inside")
    p.add_argument("--outside-mac", metavar="MAC", help="the NAT's own MAC on the outside")
    p.add_argument("--gateway-mac", metavar="MAC", help="next hop's MAC on the outside")


def nat_config(args):
    flags = {key: getattr(args, key.replace("-", "_")) for key in KEYS}
    return resolve(flags, args.config)


def make_parser():
    parser = Parser(prog="vernat", description="A NAT (RFC 3022 NAPT) whose code is proven.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)

    rp = sub.add_parser("replay", help="run the NAT over pcap files")
    rp.add_argument("--inside", metavar="IN.pcap", help="frames arriving on the inside")
    rp.add_argument("--outside", metavar="OUT.pcap", help="frames arriving on the outside")
    rp.add_argument("--to-inside", metavar="A.pcap", help="write frames sent to the inside")
    rp.add_argument("--to-outside", metavar="B.pcap", help="write frames sent to the outside")
    rp.add_argument("--stats-json", metavar="FILE", help="write the counters as JSON")
    rp.add_argument("--frames", action="store_true",
                    help="print one line per frame: what came in, what the NAT did")
    rp.add_argument("--nat-source", metavar="DIR",
                    help="(developers) run a modified copy of the verified source found in "
                         "DIR (laid out like the package), under CPython")
    add_nat_options(rp)

    bp = sub.add_parser("bench", help="measure the NAT: live, side by side with a no-op, an "
                                      "unverified NAT and Linux (root); or --in-memory")
    bp.add_argument("--in-memory", action="store_true",
                    help="NAT work per packet on frames already in memory")
    bp.add_argument("--json", metavar="FILE", nargs="?", const="-",
                    help="write results as JSON (to FILE, or stdout)")
    bp.add_argument("--packets", type=int, metavar="N",
                    help="--in-memory: frames timed per flow count (default 2,000,000)")
    bp.add_argument("--quick", action="store_true",
                    help="live: shorter trials, fewer flow counts and occupancies (< 3 min)")
    bp.add_argument("--plots", metavar="DIR",
                    help="live: write throughput.png, busy.png, latency.png to DIR")
    bp.add_argument("--duts", metavar="LIST",
                    help="live: devices to measure (default vernat,noop,unverified,linux)")
    bp.add_argument("--flows", metavar="LIST",
                    help="live: flow counts (default 1,1000,10000,60000; --quick 1,60000)")
    bp.add_argument("--occupancies", metavar="LIST",
                    help="live: flow-table occupancies in %% for latency (default "
                         "1,25,50,75,99; --quick 1,50,99)")
    bp.add_argument("--trial-seconds", type=float, metavar="S",
                    help="live: length of one trial of the loss-free search (default 2; "
                         "--quick 0.5)")
    bp.add_argument("--busy-rate", type=int, metavar="PPS",
                    help="live: offered rate for the busy-time measurement (default 200000)")
    bp.add_argument("--background-rate", type=int, metavar="PPS",
                    help="live: background traffic under the latency probes (default 50000)")
    bp.add_argument("--busy-poll", action="store_true",
                    help="live: run vernat, noop and unverified with `vernat run --busy-poll` "
                         "(they spin: lower latency, and their busy time per packet only "
                         "says the core was always busy)")
    vp = sub.add_parser("verify", help="prove the per-packet code (symbolic execution with Z3)")
    vp.add_argument("--json", metavar="FILE", nargs="?", const="-",
                    help="write the report as JSON (to FILE, or stdout)")
    vp.add_argument("--counterexample-dir", metavar="DIR", default="verify-counterexample",
                    help="where a violation's frames and config are written")
    vp.add_argument("--nat-source", metavar="DIR",
                    help="(developers) verify a modified copy of the verified source found in "
                         "DIR (laid out like the package) instead of the installed one")
    add_run_parser(sub)
    fp = sub.add_parser("flows", help="the running NAT's translations (like conntrack -L)")
    fp.add_argument("--pid", type=int, help="which NAT, when several run")
    fp.add_argument("--json", metavar="FILE", nargs="?", const="-",
                    help="write the flows as JSON (to FILE, or stdout)")
    tp = sub.add_parser("testbed", help="the built-in testbed's namespaces")
    tp.add_argument("action", choices=["down"],
                    help="down: remove testbeds left by a killed `vernat run` or "
                         "`vernat bench`, and a killed bench's work directory")
    tp.add_argument("--all", action="store_true",
                    help="also remove testbeds (and bench work directories) whose vernat "
                         "is still running")
    pp = sub.add_parser("prove", help="prove the state library (Nagini, in its own environment)")
    pp.add_argument("--module", action="append", metavar="NAME",
                    help="prove only this state-library module (layout, allocator, flowmap, "
                         "flowtable); repeatable")
    pp.add_argument("--timeout", type=int, default=1800, metavar="SEC",
                    help="give up on a module, or one part of it, after SEC seconds, "
                         "restarts included (default 1800: a run not done in 300 s is "
                         "restarted with new Z3 seeds and twice the time)")
    pp.add_argument("--jobs", type=int, default=None, metavar="N",
                    help="Nagini runs at a time (default 1; each run uses two cores already)")
    pp.add_argument("--json", metavar="FILE", nargs="?", const="-",
                    help="write the report as JSON (to FILE, or stdout)")
    return parser


def add_run_parser(sub):
    rp = sub.add_parser("run", help="run the NAT on live interfaces (AF_XDP); with no "
                                    "interfaces, on a built-in testbed with real clients")
    rp.add_argument("--inside", metavar="IF", help="interface towards the private network")
    rp.add_argument("--outside", metavar="IF", help="interface towards the outside")
    rp.add_argument("--io", choices=["xdp", "packet"],
                    help="packet I/O: xdp (AF_XDP, the default) or packet (AF_PACKET)")
    rp.add_argument("--xdp-mode", choices=["auto", "native", "generic"], default="auto",
                    help="XDP attach mode (default: native where the driver has it)")
    rp.add_argument("--gateway", metavar="A.B.C.D",
                    help="next hop on the outside (default: the default route's); its MAC "
                         "comes from the neighbour table or an ARP request")
    rp.add_argument("--duration", metavar="SEC", type=float,
                    help="stop after SEC seconds (default: run until Ctrl-C)")
    rp.add_argument("--cpu", metavar="N", type=int,
                    help="pin the data plane and the interfaces' receive work to CPU N")
    rp.add_argument("--busy-poll", action="store_true",
                    help="spin on the rings instead of sleeping in poll() when idle: lower "
                         "latency, but the data plane's core is always busy")
    rp.add_argument("--summary-json", metavar="FILE", help="write the final summary as JSON")
    rp.add_argument("--stats-file", help=argparse.SUPPRESS)   # the embedded demo's live table
    add_nat_options(rp)


def cmd_run(args):
    from vernat.live.system import RunError
    from vernat.testbed import TestbedError

    if args.duration is not None and not 0 < args.duration <= 10 ** 7:
        raise UsageError("--duration must be > 0 seconds")
    try:
        if args.inside is None and args.outside is None:
            from vernat.live import embedded
            summary = embedded.run(args)
        else:
            from vernat.live import operator, session
            config, inside, outside = operator.settings(args)
            summary = session.serve(config, inside, outside, io=args.io or "xdp",
                                    xdp_mode=args.xdp_mode, duration=args.duration,
                                    stats_path=args.stats_file,
                                    explicit_io=args.io is not None, cpu=args.cpu,
                                    busy_poll=args.busy_poll)
    except (RunError, TestbedError) as e:
        print(f"vernat: error: {e}", file=sys.stderr)
        return 1
    if args.summary_json:
        write_json(args.summary_json, summary)
    return 0 if summary.get("ok", True) else 1


def cmd_flows(args):
    from vernat.live import flows
    from vernat.live.system import RunError, require_root
    from vernat import report
    try:
        require_root()
        info, found = flows.snapshot(args.pid)
    except RunError as e:
        print(f"vernat: error: {e}", file=sys.stderr)
        return 1
    emit({"nat": info, "flows": found}, args.json, report.print_flows)
    return 0


def cmd_testbed(args):
    from vernat.live.system import RunError, require_root
    from vernat.testbed import down
    try:
        require_root()
    except RunError as e:
        print(f"vernat: error: {e}", file=sys.stderr)
        return 1
    removed, skipped, workdirs = down(include_live=args.all)
    print(f"removed {len(removed)} testbed(s){': ' + ', '.join(removed) if removed else ''}")
    if workdirs:
        print(f"removed {len(workdirs)} work director{'y' if len(workdirs) == 1 else 'ies'} "
              f"of a stopped vernat bench: {', '.join(workdirs)}")
    if skipped:
        print(f"left {len(skipped)} whose vernat is still running ({', '.join(skipped)}); "
              f"--all removes them too")
    return 0


def nat_sources(args):
    from vernat import build
    if not args.nat_source:
        return None
    if not os.path.isdir(args.nat_source):
        raise UsageError(f"--nat-source {args.nat_source}: not a directory")
    try:
        return build.read_source_tree(args.nat_source)
    except (ValueError, OSError) as e:
        raise UsageError(f"--nat-source: {e}") from None


def cmd_verify(args):
    from vernat.verify.run import verify
    from vernat import report

    result = verify(sources=nat_sources(args), counterexample_dir=args.counterexample_dir)
    emit(result, args.json, report.print_verify)
    return 0 if result["proven"] else 1


def cmd_prove(args):
    from vernat.prove import env, run
    from vernat import report

    modules = run.MODULES
    if args.module:
        short = {m.rsplit(".", 1)[1]: m for m in run.MODULES}
        unknown = [m for m in args.module if m not in short and m not in run.MODULES]
        if unknown:
            raise UsageError(f"--module {unknown[0]}: not a state-library module "
                             f"(one of {', '.join(short)})")
        modules = tuple(m for m in run.MODULES if m in args.module or
                        m.rsplit(".", 1)[1] in args.module)
    if args.timeout < 1:
        raise UsageError("--timeout must be at least 1 second")
    jobs = run.JOBS if args.jobs is None else args.jobs
    if jobs < 1:
        raise UsageError("--jobs must be at least 1")
    quiet = args.json == "-"
    log = (lambda line: print(line, file=sys.stderr)) if quiet else print
    try:
        with term_as_interrupt():
            result = run.prove(modules, args.timeout, log=log, jobs=jobs,
                               on_module=None if quiet else report.print_prove_module)
    except env.EnvError as e:
        raise UsageError(str(e)) from None
    if quiet:
        print(json.dumps(result, indent=2))
    else:
        if args.json:
            write_json(args.json, result)
        report.print_prove(result)
    return 0 if result["proven"] else 1


def cmd_replay(args):
    from vernat.io.pcap import PcapError
    from vernat.replay import replay
    from vernat import report

    if not args.inside and not args.outside:
        raise UsageError("replay needs --inside IN.pcap and/or --outside OUT.pcap")
    config = nat_config(args)
    for path in (args.to_inside, args.to_outside, args.stats_json):
        if path and os.path.isdir(path):
            raise UsageError(f"{path} is a directory, not an output file")
    frame_log = [] if args.frames else None
    try:
        stats = replay(config, args.inside, args.outside, args.to_inside, args.to_outside,
                       frame_log=frame_log, sources=nat_sources(args))
    except PcapError as e:
        raise UsageError(str(e)) from None
    if args.stats_json:
        write_json(args.stats_json, stats)
    if frame_log:
        report.print_frames(frame_log)
    report.print_replay(config, stats, args)
    return 0


LIVE_ONLY = ("quick", "plots", "duts", "flows", "occupancies", "trial_seconds", "busy_rate",
             "background_rate", "busy_poll")


def cmd_bench(args):
    from vernat import report

    if args.in_memory:
        from vernat.bench import inmemory
        given = [o for o in LIVE_ONLY if getattr(args, o) not in (None, False)]
        if given:
            raise UsageError(f"--{given[0].replace('_', '-')} is for the live benchmark, "
                             f"not --in-memory")
        packets = 2_000_000 if args.packets is None else args.packets
        if packets < 1000:
            raise UsageError("--packets must be at least 1000")
        results = inmemory.run(packets=packets, progress=sys.stderr.isatty())
        emit(results, args.json, report.print_bench)
        return 0
    return cmd_bench_live(args)


def int_list(text, flag, low, high):
    try:
        values = tuple(int(v.replace("_", "")) for v in text.split(","))
    except ValueError:
        raise UsageError(f"--{flag} {text!r}: a comma-separated list of integers") from None
    if not values or any(not low <= v <= high for v in values):
        raise UsageError(f"--{flag}: every value must be in {low}..{high:,}")
    return tuple(sorted(set(values)))


def bench_settings(args):
    from vernat.bench import duts, suite

    if args.packets is not None:
        raise UsageError("--packets is for --in-memory")
    settings = suite.quick_settings() if args.quick else suite.Settings()
    if args.duts:
        names = tuple(d.strip() for d in args.duts.split(","))
        unknown = [d for d in names if d not in duts.NAMES]
        if unknown or not names:
            raise UsageError(f"--duts: {unknown[0] if unknown else args.duts!r} is not one of "
                             f"{', '.join(duts.NAMES)}")
        settings.duts = tuple(d for d in duts.NAMES if d in names)
    if args.flows:
        settings.flows = int_list(args.flows, "flows", 1, duts.CAPACITY)
    if args.occupancies:
        settings.occupancies = int_list(args.occupancies, "occupancies", 1, 99)
    if args.trial_seconds is not None:
        if not 0.1 <= args.trial_seconds <= 60:
            raise UsageError("--trial-seconds must be in 0.1..60")
        settings.trial_seconds = args.trial_seconds
    for flag in ("busy_rate", "background_rate"):
        value = getattr(args, flag)
        if value is not None:
            if not 1000 <= value <= 5_000_000:
                raise UsageError(f"--{flag.replace('_', '-')} must be in 1,000..5,000,000 "
                                 f"frames/s")
            setattr(settings, flag, value)
    settings.busy_poll = args.busy_poll
    if args.plots and os.path.exists(args.plots) and not os.path.isdir(args.plots):
        raise UsageError(f"--plots {args.plots}: not a directory")
    return settings


@contextlib.contextmanager
def term_as_interrupt():
    """SIGTERM (a CI time-out, `kill`, systemd) ends the block as Ctrl-C
    does, so that what it started (testbeds, Nagini's workers with their JVM
    and Z3 processes, in sessions of their own) is removed on the way out
    rather than left running."""
    import signal

    def interrupted(signum, frame):
        raise KeyboardInterrupt
    old = signal.signal(signal.SIGTERM, interrupted)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def cmd_bench_live(args):
    from vernat import report
    from vernat.bench import suite, tools
    from vernat.testbed import TestbedError

    settings = bench_settings(args)
    try:
        with term_as_interrupt():
            results = suite.run(settings, progress=sys.stderr.isatty())
    except (tools.ToolError, TestbedError) as e:
        print(f"vernat: error: {e}", file=sys.stderr)
        return 1
    if args.plots:
        from vernat.bench import plots
        try:
            plots.write(results, args.plots)
        except OSError as e:
            raise UsageError(f"--plots {args.plots}: {e.strerror or e}") from None
    emit(results, args.json, report.print_live_bench)
    return 0


def emit(result, json_target, print_for_people):
    """--json - : JSON on stdout only; --json FILE: the file and the table;
    no --json: the table."""
    if json_target == "-":
        print(json.dumps(result, indent=2))
        return
    if json_target:
        write_json(json_target, result)
    print_for_people(result)


def write_json(path, data):
    try:
        with open(path, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=2)
            f.write("\n")
    except OSError as e:
        raise UsageError(f"{path}: {e.strerror or e}") from None


COMMANDS = {"replay": cmd_replay, "bench": cmd_bench, "verify": cmd_verify,
            "run": cmd_run, "testbed": cmd_testbed, "flows": cmd_flows, "prove": cmd_prove}


def main(argv=None):
    parser = make_parser()
    try:
        args = parser.parse_args(argv)
        if not args.command:
            parser.print_help()
            return EXIT_USAGE
        return COMMANDS[args.command](args)
    except (UsageError, ConfigError) as e:
        print(f"vernat: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("vernat: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
