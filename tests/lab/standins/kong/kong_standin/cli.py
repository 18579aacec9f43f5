# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The `kong` command line: start, stop, quit, reload, health, version, prepare, check,
migrations.  Messages and exit codes follow Kong's kong/cmd/*.lua."""

import os
import signal
import subprocess
import sys
import time

from . import conf as confmod
from . import at_least, kong_version, logs

VALUE_OPTIONS = {"-c": "conf", "--conf": "conf", "-p": "prefix", "--prefix": "prefix",
                 "--db-timeout": "db_timeout", "--lock-timeout": "lock_timeout", "-t": "timeout",
                 "--timeout": "timeout", "-w": "wait", "--wait": "wait", "--nginx-conf": "nginx_conf",
                 "--nginx-conf-flags": "nginx_conf_flags"}
FLAG_OPTIONS = {"-y": "yes", "--yes": "yes", "-q": "quiet", "--quiet": "quiet", "-f": "force",
                "--force": "force", "--v": "v", "--vv": "vv", "--run-migrations": "run_migrations",
                "-a": "all", "--all": "all"}
# What the stand-in implements. docker-start is not a Kong command: the image's entrypoint handles it.
COMMANDS = ("start", "stop", "quit", "reload", "restart", "health", "version", "prepare", "check", "migrations")
MIGRATION_COMMANDS = ("bootstrap", "up", "finish", "list", "reset", "status")
# bin/kong's table of commands (kong/cmd/init.lua at 2.8.5, bin/kong at 3.4.2 and 3.9.1; drain from 3.9.0).
KONG_COMMANDS = ("start", "stop", "quit", "restart", "reload", "health", "check", "prepare", "migrations",
                 "version", "config", "roar", "hybrid", "vault")


def usage(version):
    """bin/kong's help text for that version (printed after "No such command: X" and a blank line)."""
    commands = sorted(KONG_COMMANDS + (("drain",) if at_least(version, 3, 9) else ()))
    return ("Usage: kong COMMAND [OPTIONS]\n\nThe available commands are:\n %s\n\nOptions:\n"
            " --v              verbose\n --vv             debug\n" % "\n ".join(commands))


class CliError(Exception):
    """Printed as Kong prints errors: 'Error: <message>' plus the verbosity hint, exit 1."""


def parse_args(argv):
    options = {"positional": []}
    index = 0
    while index < len(argv):
        token = argv[index]
        if "=" in token and token.split("=", 1)[0] in VALUE_OPTIONS:
            name, value = token.split("=", 1)
            options[VALUE_OPTIONS[name]] = value
        elif token in VALUE_OPTIONS:
            if index + 1 >= len(argv):
                raise CliError("option %s requires a value" % token)
            options[VALUE_OPTIONS[token]] = argv[index + 1]
            index += 1
        elif token in FLAG_OPTIONS:
            options[FLAG_OPTIONS[token]] = True
        elif token.startswith("-") and len(token) > 1:
            raise CliError("unknown option %s" % token)
        else:
            options["positional"].append(token)
        index += 1
    return options


def print_error(message):
    logs.cli_err("Error: %s\n\n  Run with --v (verbose) or --vv (debug) for more details" % message)


def load_conf(options, environ=None):
    text = None
    if options.get("conf"):
        try:
            with open(options["conf"]) as handle:
                text = handle.read()
        except OSError:
            raise CliError("no file at: %s" % options["conf"])
    try:
        conf = confmod.load(environ if environ is not None else os.environ, text,
                            {"prefix": options.get("prefix")})
    except confmod.ConfError as exc:
        raise CliError(str(exc))
    if options.get("db_timeout"):
        conf["pg_timeout"] = float(options["db_timeout"]) * 1000
    logs.set_level(conf.get("log_level", "notice"))
    return conf


def pid_from_file(pid_file):
    try:
        with open(pid_file) as handle:
            return int(handle.read().strip() or 0) or None
    except (OSError, ValueError):
        return None


def is_running(pid_file):
    """kill -0 on the pid in pid_file (a zombie counts as not running)."""
    pid = pid_from_file(pid_file)
    return bool(pid) and _pid_alive(pid)


def prepare_prefix(conf):
    prefix = conf["prefix"]
    for sub in ("", "logs", "pids", "sockets"):
        try:
            os.makedirs(os.path.join(prefix, sub), exist_ok=True)
        except PermissionError:
            raise CliError("could not create directory %s: Permission denied" % os.path.join(prefix, sub))
    with open(conf["kong_env"], "w") as handle:
        handle.write(confmod.kong_env_text(conf))
    os.chmod(conf["kong_env"], 0o600)
    with open(conf["nginx_conf"], "w") as handle:
        handle.write("# Kong stand-in: no nginx runs here; listeners are served by the stand-in process.\n")


# ---------------------------------------------------------------- commands

def cmd_version(options):
    if options.get("all"):
        logs.cli_out("Kong: %s\nngx_lua: 0.10.26\nnginx: 1025003\nLua: LuaJIT 2.1.0-20231117.1" % kong_version())
    else:
        logs.cli_out(kong_version())
    return 0


def cmd_health(options):
    conf = load_conf(options)
    prefix = conf["prefix"]
    if not os.path.exists(prefix):
        raise CliError("no such prefix: %s" % prefix)
    if not os.path.exists(conf["kong_env"]):
        raise CliError("Kong is not running at %s" % prefix)
    running = is_running(conf["nginx_pid"])
    logs.cli_out("nginx.......%s" % ("running" if running else "not running"))
    logs.cli_out("")
    if not running:
        raise CliError("Kong is not running at %s" % prefix)
    logs.cli_out("Kong is healthy at %s" % prefix)
    return 0


def _check_database(conf, options, out):
    """What 'kong start' checks before launching: schema state (and --run-migrations)."""
    if conf.get("database") == "off":
        return
    from . import migrations, pg
    try:
        conn = pg.connect(conf)
    except pg.DatabaseError as exc:
        raise CliError(str(exc))
    try:
        state = migrations.load_state(conn, conf)
        if options.get("run_migrations") and not migrations.is_up_to_date(state):
            migrations.cmd_up(conn, conf, float(options.get("lock_timeout") or 60), out)
            state = migrations.load_state(conn, conf)
        migrations.check_state(state)
        sep = ""
        if state.get("missing_migrations"):
            out("Database is missing some migrations:\n%s" % migrations.format_migrations(state["missing_migrations"]))
            sep = "\n\n"
        if state.get("pending_migrations"):
            out("%sDatabase has pending migrations:\n%s"
                % (sep, migrations.format_migrations(state["pending_migrations"])))
    except migrations.MigrationError as exc:
        raise CliError(str(exc))
    finally:
        conn.close()


def run_foreground(options, announce=None):
    """'kong start' with nginx_daemon off: prepare, then run nginx in this process (it refuses to start
    over a running node; the image's entrypoint execs the nginx stand-in directly and does not)."""
    conf = load_conf(options)
    if is_running(conf["nginx_pid"]):
        raise CliError("Kong is already running in %s" % conf["prefix"])
    prepare_prefix(conf)
    from .nginx import run_node
    return run_node(conf, options, announce)


def cmd_start(options, script):
    conf = load_conf(options)
    if not conf.get("nginx_daemon", True):
        return run_foreground(options, announce=lambda: logs.cli_out("Kong started"))
    if is_running(conf["nginx_pid"]):
        raise CliError("Kong is already running in %s" % conf["prefix"])
    prepare_prefix(conf)
    _check_database(conf, options, logs.cli_out)
    log_path = os.path.join(conf["prefix"], "logs", "error.log")
    # like Kong: the prefix is prepared, then nginx starts from it
    argv = [sys.executable, os.path.join(os.path.dirname(script), "nginx_main.py"), "-p", conf["prefix"],
            "-c", "nginx.conf"]
    with open(log_path, "ab") as log_file, open(os.devnull, "rb") as devnull:
        child = subprocess.Popen(argv, stdin=devnull, stdout=log_file, stderr=log_file, start_new_session=True,
                                 close_fds=True)
    deadline = time.time() + max(10.0, conf.get("pg_timeout", 5000) / 1000.0 + 5)
    while time.time() < deadline:
        if child.poll() is not None:
            raise CliError(_last_error_line(log_path) or "failed to start nginx (exit code: %s)" % child.returncode)
        if pid_from_file(conf["nginx_pid"]) == child.pid:
            logs.cli_out("Kong started")
            return 0
        time.sleep(0.05)
    child.kill()
    raise CliError("timeout waiting for Kong to start (see %s)" % log_path)


def _last_error_line(log_path):
    try:
        with open(log_path, errors="replace") as handle:
            lines = [line.strip() for line in handle.readlines() if line.strip()]
    except OSError:
        return None
    for line in reversed(lines):
        if line.startswith("nginx: ") or line.startswith("Error: "):
            return line.split(": ", 1)[1] if line.startswith("Error: ") else line
    return lines[-1] if lines else None


def _running_conf(options):
    conf = load_conf(options)
    if not os.path.exists(conf["prefix"]):
        raise CliError("no such prefix: %s" % conf["prefix"])
    return conf


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open("/proc/%d/stat" % pid) as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def _wait_stopped(pid_file, pid, seconds):
    """Wait until the process itself is gone (not only its pid file)."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        if not _pid_alive(pid):
            return True
        time.sleep(0.05)
    return False


def cmd_stop(options):
    conf = _running_conf(options)
    pid = pid_from_file(conf["nginx_pid"])
    if not is_running(conf["nginx_pid"]):
        raise CliError("nginx not running in prefix: %s" % conf["prefix"])
    os.kill(pid, signal.SIGTERM)
    _wait_stopped(conf["nginx_pid"], pid, 10)
    logs.cli_out("Kong stopped")
    return 0


def cmd_quit(options):
    conf = _running_conf(options)
    wait = float(options.get("wait") or 0)
    if wait > 0:
        time.sleep(wait)
    pid = pid_from_file(conf["nginx_pid"])
    if not is_running(conf["nginx_pid"]):
        raise CliError("nginx not running in prefix: %s" % conf["prefix"])
    os.kill(pid, signal.SIGQUIT)
    if _wait_stopped(conf["nginx_pid"], pid, max(float(options.get("timeout") or 10), 1)):
        logs.cli_out("Kong stopped (gracefully)")
        return 0
    os.kill(pid, signal.SIGTERM)
    logs.cli_out("Timeout, Kong stopped forcefully")
    return 0


def cmd_reload(options):
    conf = _running_conf(options)
    if not is_running(conf["nginx_pid"]):
        raise CliError("nginx not running in prefix: %s" % conf["prefix"])
    os.kill(pid_from_file(conf["nginx_pid"]), signal.SIGHUP)
    logs.cli_out("Kong reloaded")
    return 0


def cmd_prepare(options):
    prepare_prefix(load_conf(options))
    return 0


def cmd_check(options):
    path = options["positional"][1] if len(options["positional"]) > 1 else None
    if path:
        options["conf"] = path
    load_conf(options)
    logs.cli_out("configuration at %s is valid" % (path or "default"))
    return 0


def cmd_migrations(options):
    positional = options["positional"]
    if len(positional) < 2 or positional[1] not in MIGRATION_COMMANDS:
        logs.cli_err("Usage: kong migrations COMMAND [OPTIONS]\n\nManage database schema migrations.\n\n"
                     "The available commands are:\n  bootstrap\n  up\n  finish\n  list\n  reset\n  status")
        return 1
    command = positional[1]
    conf = load_conf(options)
    if conf.get("database") == "off":
        raise CliError("cannot run migrations when database is 'off'")
    quiet = bool(options.get("quiet"))

    def out(message):
        if not quiet:
            logs.cli_out(message)

    def warn(message):
        if not quiet:
            logs.cli_warn(message)

    from . import migrations, pg
    lock_ttl = float(options.get("lock_timeout") or 60)
    try:
        conn = pg.connect(conf)
    except pg.DatabaseError as exc:
        raise CliError(str(exc))
    _wait_for_start_barrier()
    try:
        if command == "list":
            return migrations.cmd_list(conn, conf, out, warn)
        if command == "status":
            return migrations.cmd_status(conn, conf, logs.cli_out)
        if command == "bootstrap":
            if options.get("force"):
                state = migrations.load_state(conn, conf)
                if not state["needs_bootstrap"]:
                    migrations.cmd_reset(conn, conf, lock_ttl, out)
            return migrations.cmd_bootstrap(conn, conf, lock_ttl, out)
        if command == "up":
            return migrations.cmd_up(conn, conf, lock_ttl, out)
        if command == "finish":
            return migrations.cmd_finish(conn, conf, lock_ttl, out)
        if not options.get("yes"):
            if not sys.stdin.isatty():
                raise CliError("not a tty: invoke 'reset' non-interactively with the --yes flag")
            state = migrations.load_state(conn, conf)
            if not state["needs_bootstrap"]:
                sys.stdout.write("> Are you sure? This operation is irreversible. [y/n] ")
                sys.stdout.flush()
                if sys.stdin.readline().strip() not in ("y", "Y", "yes", "YES"):
                    out("cancelled")
                    return 0
        return migrations.cmd_reset(conn, conf, lock_ttl, out)
    except migrations.MigrationError as exc:
        raise CliError(str(exc))
    except pg.DatabaseError as exc:
        raise CliError(str(exc))
    except pg.psycopg2.Error as exc:
        raise CliError("[PostgreSQL error] %s" % str(exc).strip().splitlines()[0])
    finally:
        conn.close()


def _wait_for_start_barrier():
    """Test hook: KONG_STANDIN_CLI_START_AT=<epoch seconds> makes several CLI processes touch the
    database at the same instant, as nodes of one rollout do; process spawn jitter would hide races."""
    start_at = os.environ.get("KONG_STANDIN_CLI_START_AT")
    if start_at:
        try:
            delay = float(start_at) - time.time()
        except ValueError:
            return
        if 0 < delay < 30:
            time.sleep(delay)


def main(argv, script):
    try:
        options = parse_args(argv)
        positional = options["positional"]
        if not positional or positional[0] not in COMMANDS:
            # pl.lapp quit(): the message, a blank line, the usage; exit 1 (no command at all: usage only)
            if positional:
                logs.cli_err("No such command: %s\n" % positional[0])
            logs.write_err(usage(kong_version()))
            return 1
        command = positional[0]
        if command == "version":
            return cmd_version(options)
        if command == "health":
            return cmd_health(options)
        if command == "start":
            return cmd_start(options, script)
        if command == "stop":
            return cmd_stop(options)
        if command == "quit":
            return cmd_quit(options)
        if command in ("reload",):
            return cmd_reload(options)
        if command == "restart":
            conf = load_conf(options)
            if is_running(conf["nginx_pid"]):
                cmd_stop(options)
            return cmd_start(options, script)
        if command == "prepare":
            return cmd_prepare(options)
        if command == "check":
            return cmd_check(options)
        return cmd_migrations(options)
    except CliError as exc:
        print_error(str(exc))
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # like Kong's xpcall handler: one line, traceback only when verbose
        if "--v" in argv or "--vv" in argv:
            import traceback
            logs.cli_err("Error: \n" + traceback.format_exc())
        else:
            print_error("%s: %s" % (type(exc).__name__, exc))
        return 1
