"""`python -m hardware.sim --robot so101_follower --link PATH`: serve a simulated arm until killed."""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from .robots import ROBOTS, make_chain, protocol_of
from .server import SimServer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hardware.sim", description=__doc__)
    parser.add_argument("--robot", required=True, choices=ROBOTS, help="which arm to simulate")
    parser.add_argument("--link", help="also make the serial device reachable at this path (a symlink)")
    parser.add_argument("--motion", choices=("wave", "still"), help="a hand moves the joints (leaders: default)")
    parser.add_argument("--speed", type=float, default=3000.0, help="servo speed toward the goal, ticks/s")
    parser.add_argument("--factory", action="store_true", help="motors out of the box: id 1, default baud rate")
    args = parser.parse_args(argv)
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    chain = make_chain(args.robot, motion=args.motion, speed=args.speed, factory=args.factory)
    with SimServer(chain, protocol_of(args.robot), link=args.link) as server:
        print(f"simulated {args.robot} ({protocol_of(args.robot)}, {len(chain.servos)} motors) serving on "
              f"{server.port}" + (f" -> {server.device}" if args.link else ""), flush=True)
        done.wait()
    print("simulator stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
