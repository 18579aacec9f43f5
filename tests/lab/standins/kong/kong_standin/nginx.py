# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The stand-in's `nginx`: runs a node from a prefix that `kong prepare` rendered.

docker-kong's entrypoint runs `kong prepare -p $PREFIX`, then execs `nginx -p $PREFIX -c nginx.conf`; Kong's
init_by_lua then loads <prefix>/.kong_env (conf_loader with from_kong_env: no KONG_* variable is read
again). Like nginx it does not look at an old pid file: it writes its own (a container restarted after
SIGKILL comes back). Database checks fail as Kong's init does: `nginx: [error] init_by_lua error: ...`.
"""

import os

from . import conf as confmod
from . import logs


def usage_error(message):
    logs.cli_err("nginx: [emerg] %s" % message)
    return 1


def parse(argv):
    prefix, conf_name = None, "conf/nginx.conf"
    index = 0
    while index < len(argv):
        token = argv[index]
        if token in ("-p", "-c") and index + 1 < len(argv):
            if token == "-p":
                prefix = argv[index + 1]
            else:
                conf_name = argv[index + 1]
            index += 2
            continue
        return None, None, "invalid option: \"%s\"" % token
    return prefix, conf_name, None


def main(argv):
    prefix, conf_name, error = parse(argv)
    if error:
        return usage_error(error)
    prefix = prefix or "/usr/local/openresty/nginx/"
    conf_path = os.path.join(prefix, conf_name)
    if not os.path.exists(conf_path):
        return usage_error("open() \"%s\" failed (2: No such file or directory)" % conf_path)
    kong_env = os.path.join(prefix, ".kong_env")
    try:
        with open(kong_env) as handle:
            text = handle.read()
    except OSError as exc:
        logs.cli_err("nginx: [error] init_by_lua error: %s: %s" % (kong_env, exc.strerror))
        return 1
    try:
        conf = confmod.load({}, text, {"prefix": prefix})
    except confmod.ConfError as exc:
        logs.cli_err("nginx: [error] init_by_lua error: %s" % exc)
        return 1
    logs.set_level(conf.get("log_level", "notice"))
    return run_node(conf, {})


def run_node(conf, options, announce=None):
    """Check the database as Kong's init does, build the router, bind, serve until signalled."""
    from .cli import CliError, _check_database, pid_from_file
    from .node import Node
    from .pg import DatabaseError
    try:
        _check_database(conf, options, lambda message: logs.error_log("notice", message, source="[kong]"))
    except CliError as exc:
        logs.cli_err("nginx: [error] init_by_lua error: %s" % exc)
        return 1
    node = Node(conf)
    try:
        node.rebuild_router("init")
    except DatabaseError as exc:
        logs.cli_err("nginx: [error] init_by_lua error: %s" % exc)
        return 1
    try:
        node.bind()
    except OSError as exc:
        logs.cli_err("nginx: [emerg] %s" % exc)
        return 1
    node.install_signal_handlers()
    with open(conf["nginx_pid"], "w") as handle:
        handle.write("%d\n" % os.getpid())
    node.serve()
    node.log("notice", "Kong %s (stand-in) started, node_id %s, database %s, role %s"
             % (node.version, node.node_id, conf.get("database"), node.role), source="[kong]")
    if announce:
        announce()
    try:
        node.wait()
    finally:
        if pid_from_file(conf["nginx_pid"]) == os.getpid():
            try:
                os.remove(conf["nginx_pid"])
            except OSError:
                pass
    return 0
