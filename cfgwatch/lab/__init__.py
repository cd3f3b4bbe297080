"""The built-in device lab: emulated routers and firewalls that speak real SSH on 127.0.0.1.

Use from tests and the demo:

    state = LabState.create(tmp / "lab")          # or LabState(existing_dir)
    with running_lab(state) as server:             # background threads in this process
        state.write_inventory(tmp / "inventory"); state.write_known_hosts()
        ...
    proc = start_lab_process(state.root)           # or a separate `cfgwatch lab serve` process
    stop_lab_process(proc)
"""

from cfgwatch.lab.platforms import lab_platforms
from cfgwatch.lab.process import LabProcess, start_lab_process, stop_lab_process
from cfgwatch.lab.server import LabServer, running_lab
from cfgwatch.lab.state import FAULTS, LabCredentials, LabDevice, LabState

__all__ = [
    "FAULTS",
    "LabCredentials",
    "LabDevice",
    "LabProcess",
    "LabServer",
    "LabState",
    "lab_platforms",
    "running_lab",
    "start_lab_process",
    "stop_lab_process",
]
