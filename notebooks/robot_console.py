"""Robot console: connect a follower and a leader arm, watch the joints live, switch torque,
calibrate step by step, start and stop teleoperation.

marimo run notebooks/robot_console.py                 # the simulated SO-101 follower and leader
marimo run notebooks/robot_console.py -- --follower /dev/ttyACM0 --leader /dev/ttyACM1 [--kind so101|so100|koch] [--id my]
"""

import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium", app_title="Robot console")


@app.cell
def _():
    import marimo as mo

    from hardware.console import RobotConsole
    from hardware.sim import is_sim_port

    return RobotConsole, is_sim_port, mo


@app.cell
def _(RobotConsole, is_sim_port, mo):
    _args = mo.cli_args()
    console = RobotConsole(
        str(_args.get("follower") or "sim://so101_follower"),
        str(_args.get("leader") or "sim://so101_leader"),
        kind=str(_args.get("kind") or "so101"),
        id=str(_args.get("id") or "console"),
    )
    if is_sim_port(console.follower.port) and is_sim_port(console.leader.port):
        console.connect()  # simulated arms: connect at once; real ones wait for the switch
    return (console,)


@app.cell
def _(console, mo):
    def _connect(on):
        console.connect() if on else console.disconnect()

    connected = mo.ui.switch(value=console.is_connected, label="connected", on_change=_connect)
    torque = mo.ui.switch(value=True, label="follower torque", on_change=console.set_torque)

    def _teleop(on):
        console.start_teleop() if on else console.stop_teleop()

    teleop = mo.ui.switch(
        value=False, label="teleoperation (the follower follows the leader)", on_change=_teleop
    )
    live = mo.ui.refresh(options=["0.5s", "1s", "2s"], default_interval="0.5s", label="refresh joints every")
    mo.vstack(
        [
            mo.md(f"# Robot console\n`{console.follower}` and `{console.leader}`"),
            mo.hstack([connected, torque, teleop], justify="start", gap=2),
            live,
        ]
    )
    return live, teleop


@app.cell
def _(console, live, mo, teleop):
    live.value  # re-run at every tick
    _rows, _note = [], ""
    if console.is_connected:
        _joints = console.joints()
        _names = list(console.follower.joints)
        _rows = [
            {"joint": j, "follower": round(_joints["follower"].get(j, float("nan")), 2),
             "leader": round(_joints["leader"].get(j, float("nan")), 2)}
            for j in _names
        ]  # fmt: skip
        if not _joints["follower"] or not _joints["leader"]:
            _note = "An arm is not calibrated yet: calibrate it below."
    if console.teleop is not None and console.teleop.error is not None:
        _note = f"Teleoperation stopped: {console.teleop.error}"
    _state = "teleoperating" if teleop.value else ("connected" if console.is_connected else "disconnected")
    mo.vstack(
        [
            mo.md(f"## Joints ({_state}; SO arms in degrees, grippers 0..100)"),
            mo.ui.table(_rows, selection=None, label="live joints") if _rows else mo.md("Not connected."),
            mo.md(_note),
        ]
    )
    return


@app.cell
def _(mo):
    calibrate_arm = mo.ui.dropdown(options=["leader", "follower"], value="leader", label="arm")
    calibrate_start = mo.ui.run_button(label="Start calibration")
    mo.vstack(
        [
            mo.md(
                "## Calibrate\nLeRobot's procedure: torque off, move the arm to the middle of its range, "
                "then move every joint through its whole range. The file replaces the arm's calibration."
            ),
            mo.hstack([calibrate_arm, calibrate_start], justify="start"),
        ]
    )
    return calibrate_arm, calibrate_start


@app.cell
def _(calibrate_arm, calibrate_start, console, mo):
    mo.stop(not calibrate_start.value)
    session = console.calibrate(calibrate_arm.value)
    next_step = mo.ui.button(label="Next step", on_click=lambda _: session.proceed())
    return next_step, session


@app.cell
def _(live, mo, next_step, session):
    live.value  # follow the calibration live
    _steps = {
        "starting": "Starting...",
        "waiting": f"**Step 1.** {session.message} Then press *Next step*.",
        "recording": f"**Step 2.** {session.message} Press *Next step* when done.",
        "done": f"Calibrated; saved to `{session.arm.calibration_path}`.",
        "failed": f"Calibration failed: {session.error}",
    }
    mo.vstack(
        [
            mo.md(_steps[session.state]),
            next_step if session.state in ("waiting", "recording") else mo.md(""),
            mo.ui.table(session.ranges(), selection=None, label="ranges (raw steps)")
            if session.ranges()
            else mo.md(""),
        ]
    )
    return


if __name__ == "__main__":
    app.run()
