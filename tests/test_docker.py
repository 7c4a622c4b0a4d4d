"""docker/: the images and the compose file cannot be built here, so check what can be checked:
the files parse, every file an image copies exists in the build context, every pip/uv install
step installs requirements.txt (or a pin read from it), and the compose services share the host
network and one ROS_DOMAIN_ID, run profiles that exist and build from Dockerfiles that exist."""
from __future__ import annotations

import glob
import re
import shlex
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
