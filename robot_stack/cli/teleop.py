"""`rlif teleop --check`: is the operator's device working? Live axes, rates, who drives.

    rlif teleop --check                     # the spacemouse; Ctrl-C to stop
    rlif teleop --check --device keyboard   # keyboard fallback in this terminal (works over ssh -t)
    rlif teleop --check --device fake --json --seconds 4

The live view shows each axis (ROS convention, full scale 1.0) with its deadband state, the
buttons, the reader's poll rate and the device's report rate, and who drives (operator / policy),
with faults and warnings. `--json` runs `--seconds` (default 5) quietly and prints one JSON line:
{"rate_hz", "report_hz", "takeovers", "releases", "buttons", "requests", "faults", ...}; rate_hz
is the reader loop's mean rate, buttons the number of button presses. A missing device or
hidapi is one line naming the fix, exit code 1.
"""
from __future__ import annotations

import argparse
import time
from collections import Counter

from robot_stack.cli.common import add_config_args, emit_json, resolve_config
from robot_stack.cli.common import CliError

TICK_S = 0.05  # the check polls the operator at 20 Hz, like a (fast) control tick
AXES = ("x", "y", "z", "roll", "pitch", "yaw")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("teleop", help="check the operator's device: live axes, rate, deadband, who drives")
    p.add_argument("--check", action="store_true", help="open the device and show it live")
    p.add_argument("--device", choices=("spacemouse", "keyboard", "fake"), default=None,
                   help="input device (default: teleop.device of the profile)")
    p.add_argument("--seconds", type=float, default=None, help="stop after this long (default: Ctrl-C; 5 with --json)")
    p.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    add_config_args(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not args.check:
        raise CliError("nothing to do: use `rlif teleop --check` (the teleop node runs under `rlif up`)", code=2)
    from teleop.errors import TeleopDeviceError
    from teleop.operator import HumanOperator, open_source

    cfg = resolve_config(args)
    device = args.device or cfg.teleop.device
    seconds = args.seconds if args.seconds is not None else (5.0 if args.json else None)
    try:
        source = open_source(cfg.teleop, device)
    except TeleopDeviceError as e:
        raise CliError(str(e)) from None
    counts: Counter[str] = Counter()
    t0 = time.monotonic()
    state = None
    with HumanOperator(source, cfg.teleop, cfg.cell.action_space) as op:
        try:
            if args.json:
                while seconds is None or time.monotonic() - t0 < seconds:
                    state = _tick(op, counts)
            else:
                state = _live(op, counts, device, seconds, t0)
        except KeyboardInterrupt:
            pass
        elapsed = time.monotonic() - t0
        st = source.status()
    result = {
        "device": device, "seconds": round(elapsed, 2),
        "rate_hz": round(st.pumps / elapsed, 1) if elapsed > 0 else 0.0,
        "report_hz": round(st.reports / elapsed, 1) if elapsed > 0 else 0.0,
        "takeovers": counts["takeover"], "releases": counts["release"],
        "buttons": state.button_presses if state else 0,
        "requests": {k: counts[k] for k in ("request_success", "request_abort")},
        "faults": counts["fault"], "fault": state.fault if state else None,
        "warning": state.warning if state else None,
    }
    if args.json:
        emit_json(result)
    else:
        print(f"\n{result['rate_hz']} Hz polls, {result['report_hz']} reports/s, {result['takeovers']} takeovers, "
              f"{result['releases']} releases, {result['buttons']} button presses")
    return 0


def _tick(op, counts: Counter):
    state = op.poll()
    counts.update(state.events)
    time.sleep(TICK_S)
    return state


def _live(op, counts: Counter, device: str, seconds: float | None, t0: float):
    from rich.live import Live

    if device == "keyboard":
        from teleop.keyboard import HELP

        print(HELP + "; Ctrl-C to stop")
    state = None
    with Live(auto_refresh=False, transient=False) as live:
        while seconds is None or time.monotonic() - t0 < seconds:
            state = _tick(op, counts)
            live.update(_view(state, counts, op.source.button_names), refresh=True)
    return state


def _view(s, counts: Counter, names: tuple[str, ...]):
    from rich.console import Group
    from rich.markup import escape
    from rich.table import Table
    from rich.text import Text

    t = Table(title=f"rlif teleop --check ({s.source})", show_header=True)
    for h in ("axis", "value", "", "deadband"):
        t.add_column(h)
    for i, name in enumerate(AXES):
        v = float(s.axes[i])
        bar = ("#" * int(abs(v) * 10)).rjust(10) if v < 0 else "          "
        bar += "|" + ("#" * int(abs(v) * 10) if v > 0 else "")
        t.add_row(name, f"{v:+.2f}", bar, "[bold yellow]OUT[/]" if s.outside[i] else "in")
    who = "[bold red]OPERATOR drives[/]" if s.intervening else "[green]policy drives[/]"
    pressed = [names[i] if i < len(names) else f"BUTTON_{i}" for i, b in enumerate(s.buttons) if b]
    lines = (f"{who}   buttons {list(s.buttons)} {' '.join(pressed)}\n"
             f"poll {s.poll_hz:.0f} Hz   reports {s.report_hz:.0f}/s   "
             f"takeovers {counts['takeover']}  releases {counts['release']}  presses {s.button_presses}"
             + (f"\n[red]FAULT: {escape(s.fault)}[/]" if s.fault else "")
             + (f"\n[yellow]warning: {escape(s.warning)}[/]" if s.warning else ""))
    return Group(t, Text.from_markup(lines))


