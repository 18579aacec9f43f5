# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""kongops-lab/nginx:1.22 is used like the official image: conf.d include, foreground, reload."""

from __future__ import annotations

import time

import pytest

from conftest import NGINX_IMAGE, docker, echo_server, http_get, require_images, wait_http, wait_until

LB_ADDRESS = "127.0.7.20"
LB_PORT = 8000
UPSTREAM_ADDRESS = "127.0.7.21"


@pytest.fixture
def backend():
    with echo_server(UPSTREAM_ADDRESS, "backend:") as port:
        yield port


def site_config(upstream_port, marker):
    return """
upstream kong_proxy {
    server %s:%d;
}
server {
    listen %s:%d;
    location = /marker { return 200 "%s"; }
    location / { proxy_pass http://kong_proxy; proxy_connect_timeout 1s; }
}
""" % (UPSTREAM_ADDRESS, upstream_port, LB_ADDRESS, LB_PORT, marker)


def master_pid(containers, name):
    return containers.exec(name, "cat", "/run/nginx.pid").stdout.strip()


def test_serves_mounted_conf_and_reloads(lab_engine, containers, tmp_path, backend):
    require_images(NGINX_IMAGE)
    conf_dir = tmp_path / "conf.d"
    conf_dir.mkdir()
    (conf_dir / "lb.conf").write_text(site_config(backend, "first"))
    name = containers.run("labtest-nginx", NGINX_IMAGE, volumes=["%s:/etc/nginx/conf.d:ro" % conf_dir])

    wait_http("http://%s:%d/marker" % (LB_ADDRESS, LB_PORT), 10)
    assert http_get("http://%s:%d/marker" % (LB_ADDRESS, LB_PORT))[2] == "first"
    status, _headers, body = http_get("http://%s:%d/some/path" % (LB_ADDRESS, LB_PORT))
    assert (status, body) == (200, "backend:/some/path")
    pid_before = master_pid(containers, name)

    (conf_dir / "lb.conf").write_text(site_config(backend, "second"))
    assert "successful" in containers.exec(name, "nginx", "-t").stderr
    containers.exec(name, "nginx", "-s", "reload")
    wait_until(lambda: http_get("http://%s:%d/marker" % (LB_ADDRESS, LB_PORT))[2] == "second", 10,
               "reloaded configuration served")
    assert master_pid(containers, name) == pid_before  # a reload, not a restart
    # access log goes to the container output, like the official image
    assert "GET /some/path" in containers.logs(name)


def test_stops_gracefully_on_docker_stop(lab_engine, containers, tmp_path):
    require_images(NGINX_IMAGE)
    conf_dir = tmp_path / "conf.d"
    conf_dir.mkdir()
    (conf_dir / "lb.conf").write_text("server { listen %s:%d; return 200 ok; }\n" % (LB_ADDRESS, LB_PORT + 1))
    name = containers.run("labtest-nginx-stop", NGINX_IMAGE, volumes=["%s:/etc/nginx/conf.d:ro" % conf_dir])
    wait_http("http://%s:%d/" % (LB_ADDRESS, LB_PORT + 1), 10)
    started = time.monotonic()
    docker("stop", "-t", "10", name, timeout=30)
    # SIGQUIT (the image's STOPSIGNAL) ends nginx at once, long before docker's 10 s SIGKILL
    assert time.monotonic() - started < 5
    assert containers.state(name)["ExitCode"] == 0
