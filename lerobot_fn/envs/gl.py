"""Headless OpenGL for MuJoCo renderers: EGL on a GPU, OSMesa on a CPU, chosen before MuJoCo loads.

MuJoCo (and dm_control, robosuite) read `MUJOCO_GL` (and PyOpenGL reads `PYOPENGL_PLATFORM`) when
they are imported, so `select_backend` runs in each env worker before the simulator is imported.
A value the user already set is kept.
"""

from __future__ import annotations

import ctypes.util
import glob
import os

INSTALL_HINT = ("no headless OpenGL library found for MuJoCo rendering: on a CPU machine install OSMesa "
                "(Debian/Ubuntu: apt-get install -y libosmesa6), on a GPU machine EGL (apt-get install -y "
                "libegl1), or set MUJOCO_GL yourself")


class HeadlessGLError(RuntimeError):
    """Neither EGL (with a GPU) nor OSMesa is available; the message says what to install."""


def _has_gpu() -> bool:
    return bool(glob.glob("/dev/nvidia[0-9]*") or glob.glob("/dev/dri/renderD*"))


def _loadable(name: str) -> bool:
    path = ctypes.util.find_library(name)
    if path is None:
        return False
    try:
        ctypes.CDLL(path)
    except OSError:
        return False
    return True


def choose_backend(has_gpu: bool | None = None, loadable=_loadable) -> str:
    """"egl" when a GPU and libEGL are there, else "osmesa" when libOSMesa is; else HeadlessGLError."""
    gpu = _has_gpu() if has_gpu is None else has_gpu
    if gpu and loadable("EGL"):
        return "egl"
    if loadable("OSMesa"):
        return "osmesa"
    raise HeadlessGLError(INSTALL_HINT)


def select_backend() -> str:
    """Set MUJOCO_GL / PYOPENGL_PLATFORM for this process (keeping a user's choice); returns it."""
    backend = os.environ.get("MUJOCO_GL") or choose_backend()
    os.environ["MUJOCO_GL"] = backend
    if backend in ("egl", "osmesa"):
        os.environ.setdefault("PYOPENGL_PLATFORM", backend)
    return backend
