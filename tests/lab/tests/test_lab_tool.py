# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The lab tool: input hashes (no engine needed) and its commands on the running engine.

`lab down` is not exercised here: it removes every lab and collection container on the shared
engine. Its behaviour is covered by hand (see tests/lab/README.md).
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import re
import time

import pytest

from conftest import LAB_MODULE, NGINX_IMAGE, docker, http_get, lab, require_images, wait_http, wait_until

FAULT_ADDRESS = "127.0.7.30"
FAULT_PORT = 8000


def load_lab_module():
    loader = importlib.machinery.SourceFileLoader("kongops_lab_tool", LAB_MODULE)
    spec = importlib.util.spec_from_loader("kongops_lab_tool", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


@pytest.fixture
def lab_tool(tmp_path, monkeypatch):
    """The tool module with its image and stand-in directories pointed at a scratch copy."""
    module = load_lab_module()
    images = tmp_path / "images"
    (images / "base").mkdir(parents=True)
    (images / "base" / "packages.txt").write_text("# comment\npython3\ncurl  # inline comment\n")
    (images / "kong").mkdir()
    (images / "kong" / "Dockerfile").write_text("FROM kongops-lab/debian:bookworm\n")
    standin = tmp_path / "standins" / "kong"
    standin.mkdir(parents=True)
    (standin / "kong").write_text("#!/usr/bin/python3\n")
    (standin / "docker-entrypoint.sh").write_text("#!/bin/sh\nexec \"$@\"\n")
    monkeypatch.setattr(module, "IMAGES_DIR", str(images))
    monkeypatch.setattr(module, "STANDINS_DIR", str(tmp_path / "standins"))
    return module, images, standin


def test_package_list_ignores_comments(lab_tool):
    module, _images, _standin = lab_tool
    assert module.read_package_list() == ["python3", "curl"]


def test_base_hash_follows_the_package_list_only(lab_tool):
    module, images, standin = lab_tool
    before = module.base_input_hash()
    (standin / "kong").write_text("#!/usr/bin/python3\nprint('changed')\n")
    assert module.base_input_hash() == before
    (images / "base" / "packages.txt").write_text("python3\ncurl\nprocps\n")
    assert module.base_input_hash() != before


def test_thin_hash_follows_dockerfile_sources_modes_and_base(lab_tool):
    module, images, standin = lab_tool
    before = module.thin_input_hash("kong-3.9", "base-a")
    assert module.thin_input_hash("kong-3.9", "base-a") == before
    assert module.thin_input_hash("kong-3.9", "base-b") != before

    (standin / "__pycache__").mkdir()
    (standin / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"\0junk")
    (standin / "notes.swp").write_text("editor junk")
    assert module.thin_input_hash("kong-3.9", "base-a") == before

    (standin / "kong").chmod(0o755)
    after_mode = module.thin_input_hash("kong-3.9", "base-a")
    assert after_mode != before
    (images / "kong" / "Dockerfile").write_text("FROM kongops-lab/debian:bookworm\nENV A=1\n")
    assert module.thin_input_hash("kong-3.9", "base-a") != after_mode

    paths = [context_path for context_path, _disk in module.context_files("kong-3.9")]
    assert paths == ["Dockerfile", "kong-standin/docker-entrypoint.sh", "kong-standin/kong"]


def test_standin_image_waits_for_its_entrypoint(lab_tool):
    module, _images, standin = lab_tool
    assert module.standin_ready("kong-3.9")
    (standin / "docker-entrypoint.sh").unlink()
    assert not module.standin_ready("kong-3.9")


def test_one_kong_image_per_version_with_its_own_hash(lab_tool):
    """One stand-in codebase, three tags; KONG_VERSION is a build argument (docker-kong Dockerfile.deb 3.9.1
    `ARG KONG_VERSION`, `ENV KONG_VERSION $KONG_VERSION`), so it is part of each image's input hash."""
    module, _images, _standin = lab_tool
    tags = {name: module.THIN_IMAGES[name][0] for name in module.expand_image_names(["kong"])}
    assert tags == {"kong-2.8": "kongops-lab/kong:2.8", "kong-3.4": "kongops-lab/kong:3.4",
                    "kong-3.9": "kongops-lab/kong:3.9"}
    assert [module.THIN_IMAGES[name][3] for name in sorted(tags)] == [
        {"KONG_VERSION": "2.8.5"}, {"KONG_VERSION": "3.4.2"}, {"KONG_VERSION": "3.9.1"}]
    hashes = {module.thin_input_hash(name, "base-a") for name in tags}
    assert len(hashes) == 3
    assert module.expand_image_names(["kong-3.4", "nginx"]) == ["kong-3.4", "nginx"]
    for name in tags:
        assert name in module.IMAGE_ORDER


def test_plan_prints_the_address_plan():
    out = lab("plan").stdout
    for expected in ("127.0.1.10:5432", "127.0.1.20:8000", "127.0.1.(100+i)", "127.0.2.", "kongops-lab/kong:3.9"):
        assert expected in out


def test_unknown_image_is_a_clear_failure():
    result = lab("build", "no-such-image", check=False)
    assert result.returncode == 1
    assert "unknown image(s) no-such-image" in result.stdout


def test_up_is_idempotent_and_fast_with_images_present(lab_engine):
    first = lab("up", timeout=600)
    engine_line = re.search(r"engine (dockerd pid \S+)", first.stdout).group(1)
    started = time.monotonic()
    second = lab("up", timeout=120)
    elapsed = time.monotonic() - started
    assert "lab is up" in second.stdout
    assert "started dockerd" not in second.stdout  # the engine already answered
    assert re.search(r"engine (dockerd pid \S+)", second.stdout).group(1) == engine_line
    assert "built " not in second.stdout and "imported " not in second.stdout
    assert elapsed < 15


def test_status_and_images_list_the_lab_images(lab_engine):
    status = lab("status").stdout
    assert "engine: answering" in status
    assert re.search(r"image base\s+kongops-lab/debian:bookworm\s+current", status)
    for tag in ("kongops-lab/kong:2.8", "kongops-lab/kong:3.4", "kongops-lab/kong:3.9"):
        assert re.search(r"image kong-\d\.\d\s+%s\s+\S+" % re.escape(tag), status)
    images = lab("images", check=False)
    assert "kongops-lab/postgres:15" in images.stdout
    for tag in ("kongops-lab/kong:2.8", "kongops-lab/kong:3.4", "kongops-lab/kong:3.9"):
        assert tag in images.stdout
    assert images.returncode in (0, 3)  # 3: some image is not current (for example a stand-in not written yet)


@pytest.fixture
def fault_target(lab_engine, containers, tmp_path):
    require_images(NGINX_IMAGE)
    conf_dir = tmp_path / "conf.d"
    conf_dir.mkdir()
    (conf_dir / "site.conf").write_text("server { listen %s:%d; return 200 alive; }\n" % (FAULT_ADDRESS, FAULT_PORT))
    name = containers.run("labtest-fault", NGINX_IMAGE, volumes=["%s:/etc/nginx/conf.d:ro" % conf_dir])
    wait_http("http://%s:%d/" % (FAULT_ADDRESS, FAULT_PORT), 10)
    return name


def answers():
    try:
        return http_get("http://%s:%d/" % (FAULT_ADDRESS, FAULT_PORT), timeout=0.5)[2] == "alive"
    except OSError:
        return False


def test_fault_pause_unpause_kill_restart_stop(fault_target, containers):
    name = fault_target
    lab("fault", "pause", name)
    assert containers.state(name)["Paused"] is True
    assert not answers()  # frozen: the socket accepts but nothing replies
    lab("fault", "unpause", name)
    wait_until(answers, 5, "answers after unpause")

    lab("fault", "kill", name)
    state = containers.state(name)
    assert (state["Running"], state["ExitCode"]) == (False, 137)
    assert not answers()

    lab("fault", "restart", name)
    wait_until(answers, 10, "answers after restart")

    lab("fault", "stop", name)
    assert containers.state(name)["Running"] is False
    lab("fault", "start", name)
    wait_until(answers, 10, "answers after start")

    logs = lab("logs", name, "--tail", "50")
    assert "GET / HTTP" in logs.stdout


def test_fault_refuses_a_container_the_lab_did_not_label(lab_engine):
    require_images(NGINX_IMAGE)
    name = "labtest-unlabelled"
    docker("rm", "-f", name, check=False)
    docker("create", "--pull=never", "--network", "host", "--name", name, NGINX_IMAGE, "true")
    try:
        result = lab("fault", "kill", name, check=False)
        assert result.returncode == 1
        assert "refusing" in result.stdout
        missing = lab("fault", "stop", "labtest-does-not-exist", check=False)
        assert missing.returncode == 1 and "no such container" in missing.stdout
    finally:
        docker("rm", "-f", name, check=False)
