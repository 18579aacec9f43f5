# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The kongops lab tool: one loopback-only machine standing in for a multi-host deployment.

Commands (all idempotent, all bounded in time):
  deps                      install missing Debian packages (docker.io, tini, mmdebstrap, python3-psycopg2, ...)
  up [--no-build]           deps + start dockerd if it does not answer + build absent/outdated images + print plan
  down [--keep-engine]      remove lab/collection containers; stop the dockerd this tool started (by its pid)
  status                    engine, images (current/outdated/absent) and lab containers
  build [--force] [IMAGE..] build absent or outdated images (IMAGE: base postgres nginx kong consul,
                            or one Kong version: kong-2.8 kong-3.4 kong-3.9)
  images                    list the lab images with their input hash state
  plan                      print the address plan
  logs NAME [docker logs options]
  fault stop|kill|pause|unpause|restart|start NAME   fault injection on a labelled lab container

Run through the wrapper tests/lab/lab (Debian's /usr/bin/python3, standard library only).
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

LAB_DIR = os.path.dirname(os.path.abspath(__file__))
IMAGES_DIR = os.path.join(LAB_DIR, "images")
STANDINS_DIR = os.path.join(LAB_DIR, "standins")

RUN_DIR = "/run/kongops-lab"
DOCKERD_PID_FILE = os.path.join(RUN_DIR, "dockerd.pid")  # the dockerd *this tool* started
DOCKERD_LOG = os.path.join(RUN_DIR, "dockerd.log")
LOCK_FILE = os.path.join(RUN_DIR, "lab.lock")
CACHE_DIR = "/var/cache/kongops-lab"  # rootfs tarballs, outside the repository
ENGINE_PID_FILE = "/var/run/docker.pid"  # written by dockerd itself
# dockerd's managed containerd; a stale one (dead or zombie) makes the next dockerd wait for it and fail
CONTAINERD_PID_FILE = "/var/run/docker/containerd/containerd.pid"
DOCKER_SOCKET = "/var/run/docker.sock"

# Debian's client matches Debian's engine (API 1.41); a newer client elsewhere on PATH is not needed.
DOCKER = "/usr/bin/docker" if os.path.exists("/usr/bin/docker") else (shutil.which("docker") or "docker")
DOCKERD_ARGS = [
    "--bridge=none", "--iptables=false", "--ip6tables=false", "--ip-masq=false", "--ip-forward=false",
]

HASH_LABEL = "io.kongops.lab.input-hash"
IMAGE_LABEL = "io.kongops.lab.image"
LAB_LABEL = "io.kongops.lab"
CLUSTER_LABEL = "io.kongops.cluster"
# Where the collection keeps its nodes' host directories (the kong role's default state directory).
COLLECTION_STATE_DIR = "/var/lib/kongops"

DEBIAN_SUITE = "bookworm"
DEBIAN_SOURCES = [
    "deb http://deb.debian.org/debian bookworm main",
    "deb http://deb.debian.org/debian bookworm-updates main",
    "deb http://deb.debian.org/debian-security bookworm-security main",
]
# Everything that shapes the base rootfs besides the package list; it is part of the base input hash.
MMDEBSTRAP_OPTIONS = [
    "--variant=apt",
    "--format=tar",
    "--aptopt=Acquire::Languages \"none\"",
    "--dpkgopt=path-exclude=/usr/share/man/*",
    "--dpkgopt=path-exclude=/usr/share/doc/*",
    "--dpkgopt=path-include=/usr/share/doc/*/copyright",
    "--dpkgopt=path-exclude=/usr/share/info/*",
    "--dpkgopt=path-exclude=/usr/share/locale/*",
    "--dpkgopt=path-exclude=/usr/share/lintian/*",
    # Images initialise their own clusters at run time; the Debian default cluster is dead weight.
    "--setup-hook=mkdir -p \"$1/etc/postgresql-common/createcluster.d\" && "
    "echo 'create_main_cluster = false' > \"$1/etc/postgresql-common/createcluster.d/kongops-lab.conf\"",
    "--customize-hook=rm -rf \"$1\"/var/lib/apt/lists/* \"$1\"/var/cache/apt/*.bin \"$1\"/var/log/*.log"
    " \"$1\"/etc/nginx/sites-enabled/default; chmod 1777 \"$1/tmp\"",
]
BASE_IMPORT_CHANGES = [
    "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "ENV LANG=C.UTF-8",
    "CMD [\"bash\"]",
]

# engine + image builder; the two Python packages let the stand-ins run on the host as they do in the images
REQUIRED_DEBIAN_PACKAGES = ["docker.io", "tini", "mmdebstrap", "ca-certificates", "python3-psycopg2",
                            "python3-pysyncobj"]

# name -> (tag, context dir under images/, {path in build context: stand-in dir}, {build arg: value})
BASE_TAG = "kongops-lab/debian:bookworm"
# One Kong stand-in codebase, one image per Kong version (Dockerfile ARG KONG_VERSION, as docker-kong's).
KONG_VERSIONS = {"2.8": "2.8.5", "3.4": "3.4.2", "3.9": "3.9.1"}
THIN_IMAGES = {
    "postgres": ("kongops-lab/postgres:15", "postgres", {}, {}),
    "nginx": ("kongops-lab/nginx:1.22", "nginx", {}, {}),
}
for _minor, _full in KONG_VERSIONS.items():
    THIN_IMAGES["kong-" + _minor] = ("kongops-lab/kong:" + _minor, "kong", {"kong-standin": "kong"},
                                     {"KONG_VERSION": _full})
THIN_IMAGES["consul"] = ("kongops-lab/consul:1.20", "consul", {"consul-standin": "consul"}, {})
IMAGE_ORDER = ["base", "postgres", "nginx"] + ["kong-" + minor for minor in KONG_VERSIONS] + ["consul"]
# `lab build kong` means every Kong image
IMAGE_GROUPS = {"kong": ["kong-" + minor for minor in KONG_VERSIONS]}

ADDRESS_PLAN = """\
Lab address plan (loopback only, every container uses network_mode host and binds its own 127.x address):
  datacenter dc1                                   | dc2 (same layout)
  hosts 1-9          127.0.1.1 - 127.0.1.9         | 127.0.2.1 - 127.0.2.9
    Consul agent on each host: HTTP :8500, serf LAN :8301, WAN :8302, server RPC/raft :8300
  PostgreSQL         127.0.1.10:5432               | 127.0.2.10:5432
  NGINX LB           127.0.1.20:8000               | 127.0.2.20:8000
  Kong node i        127.0.1.(100+i): proxy :8000, admin :8001, status :8100  | 127.0.2.(100+i)
  lab self-tests     127.0.7.x (containers named labtest-*, label io.kongops.lab=1)
Images: kongops-lab/debian:bookworm (base), kongops-lab/postgres:15, kongops-lab/nginx:1.22,
        kongops-lab/kong:2.8 kongops-lab/kong:3.4 kongops-lab/kong:3.9 (Kong 2.8.5, 3.4.2, 3.9.1),
        kongops-lab/consul:1.20   (local only: pull policy never)
Labels: io.kongops.cluster=<name>, io.kongops.role=kong|consul|postgres|lb, io.kongops.lab=1 (lab tests)"""

SKIP_NAMES = {"__pycache__", ".pytest_cache", ".mypy_cache"}
SKIP_SUFFIXES = (".pyc", ".pyo", ".swp", "~")


class LabError(Exception):
    """A failure with a sentence an operator can act on."""


def say(message: str) -> None:
    print(message, flush=True)


def run(cmd, timeout=60, check=True, capture=True, env=None, input_text=None):
    """Run a command with a hard time limit; raise LabError with its output when it fails."""
    try:
        result = subprocess.run(
            cmd, timeout=timeout, check=False, text=True, env=env, input=input_text,
            stdout=subprocess.PIPE if capture else None, stderr=subprocess.PIPE if capture else None,
            stdin=None if input_text is not None else subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as exc:
        raise LabError("timed out after %ss: %s" % (timeout, " ".join(cmd))) from exc
    except FileNotFoundError as exc:
        raise LabError("command not found: %s" % cmd[0]) from exc
    if check and result.returncode != 0:
        detail = ((result.stderr or "") + (result.stdout or "")).strip() if capture else ""
        raise LabError("failed (exit %s): %s\n%s" % (result.returncode, " ".join(cmd), detail[-3000:]))
    return result


def docker(*args, timeout=60, check=True, capture=True, env=None):
    return run([DOCKER] + list(args), timeout=timeout, check=check, capture=capture, env=env)


# ---------------------------------------------------------------- locking

class LabLock:
    """Serialise up/build/down between concurrent callers (several helpers share one engine)."""

    def __init__(self, wait_seconds: float):
        self.wait_seconds = wait_seconds
        self.handle = None

    def __enter__(self):
        os.makedirs(RUN_DIR, exist_ok=True)
        self.handle = open(LOCK_FILE, "a+")
        deadline = time.monotonic() + self.wait_seconds
        announced = False
        while True:
            try:
                fcntl.flock(self.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return self
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise LabError("another 'lab' command holds %s for more than %ss" % (LOCK_FILE, self.wait_seconds))
                if not announced:
                    say("waiting for another 'lab' command to finish (lock %s)" % LOCK_FILE)
                    announced = True
                time.sleep(0.5)

    def __exit__(self, *exc):
        fcntl.flock(self.handle, fcntl.LOCK_UN)
        self.handle.close()


# ---------------------------------------------------------------- Debian packages

def missing_debian_packages(packages):
    missing = []
    for package in packages:
        result = run(["dpkg-query", "-W", "-f=${Status}", package], check=False)
        if result.returncode != 0 or "install ok installed" not in result.stdout:
            missing.append(package)
    return missing


def cmd_deps(_args=None) -> int:
    missing = missing_debian_packages(REQUIRED_DEBIAN_PACKAGES)
    if not missing:
        return 0
    say("installing Debian packages: %s" % " ".join(missing))
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    install = ["apt-get", "install", "-y", "--no-install-recommends"] + missing
    if run(install, timeout=600, check=False, env=env).returncode != 0:
        run(["apt-get", "update"], timeout=300, env=env)
        run(install, timeout=600, env=env)
    return 0


# ---------------------------------------------------------------- the engine

def engine_answers(timeout: float = 2.0) -> bool:
    """True when dockerd answers GET /_ping on its unix socket."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(DOCKER_SOCKET)
            sock.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
            reply = b""
            while True:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                reply += chunk
        return reply.startswith(b"HTTP/1.") and b" 200 " in reply.split(b"\r\n", 1)[0] and reply.endswith(b"OK")
    except OSError:
        return False


def process_start_time(pid: int):
    """Kernel start time of a process (clock ticks since boot), or None when it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as handle:
            stat = handle.read()
    except OSError:
        return None
    # comm may contain spaces: fields after the closing parenthesis are fixed.
    fields = stat.rsplit(")", 1)[1].split()
    if fields[0] == "Z":
        return None
    return int(fields[19])


def process_name(pid: int) -> str:
    """Command name of a live process; "" when it is gone or a zombie (this machine's init may not reap)."""
    if process_start_time(pid) is None:
        return ""
    try:
        with open("/proc/%d/comm" % pid) as handle:
            return handle.read().strip()
    except OSError:
        return ""


def read_pid(path: str):
    try:
        with open(path) as handle:
            return int(handle.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def our_dockerd_pid():
    """Pid of the dockerd this tool started, if it is still that same process."""
    try:
        with open(DOCKERD_PID_FILE) as handle:
            recorded = json.load(handle)
    except (OSError, ValueError):
        return None
    pid = recorded.get("pid")
    if not isinstance(pid, int) or process_start_time(pid) != recorded.get("start_time"):
        return None
    return pid if process_name(pid) == "dockerd" else None


def remove_stale_engine_pid_file() -> None:
    for path, program in ((ENGINE_PID_FILE, "dockerd"), (CONTAINERD_PID_FILE, "containerd")):
        pid = read_pid(path)
        if os.path.exists(path) and (pid is None or process_name(pid) != program):
            say("removing stale %s (pid %s is not a running %s)" % (path, pid, program))
            os.unlink(path)


def tail(path: str, lines: int = 15) -> str:
    try:
        with open(path, errors="replace") as handle:
            return "".join(handle.readlines()[-lines:])
    except OSError:
        return ""


def start_engine(wait_seconds: float = 30.0) -> None:
    """Start dockerd (no bridge, no iptables) unless one already answers."""
    if engine_answers():
        return
    running = read_pid(ENGINE_PID_FILE)
    if running and process_name(running) == "dockerd":
        say("dockerd pid %s exists but does not answer yet; waiting" % running)
        wait_for_engine(wait_seconds, None)
        return
    remove_stale_engine_pid_file()
    dockerd = shutil.which("dockerd") or "/usr/sbin/dockerd"
    if not os.path.exists(dockerd):
        raise LabError("dockerd not found; run 'lab deps' (Debian package docker.io)")
    os.makedirs(RUN_DIR, exist_ok=True)
    with open(DOCKERD_LOG, "ab") as log:
        process = subprocess.Popen(
            [dockerd] + DOCKERD_ARGS, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True, close_fds=True,
        )
    with open(DOCKERD_PID_FILE, "w") as handle:
        json.dump({"pid": process.pid, "start_time": process_start_time(process.pid),
                   "args": DOCKERD_ARGS, "log": DOCKERD_LOG}, handle)
    say("started dockerd pid %s (log %s)" % (process.pid, DOCKERD_LOG))
    wait_for_engine(wait_seconds, process)


def wait_for_engine(wait_seconds: float, process) -> None:
    deadline = time.monotonic() + wait_seconds
    attempt = 0
    while time.monotonic() < deadline:
        attempt += 1
        if engine_answers():
            return
        if process is not None and process.poll() is not None:
            raise LabError("dockerd exited with %s during start; last log lines:\n%s"
                           % (process.returncode, tail(DOCKERD_LOG)))
        if attempt % 10 == 0:
            say("attempt %d: dockerd does not answer on %s yet" % (attempt, DOCKER_SOCKET))
        time.sleep(0.2)
    raise LabError("dockerd did not answer on %s within %ss; last log lines:\n%s"
                   % (DOCKER_SOCKET, wait_seconds, tail(DOCKERD_LOG)))


def stop_engine(wait_seconds: float = 30.0) -> None:
    pid = our_dockerd_pid()
    if pid is None:
        if os.path.exists(DOCKERD_PID_FILE):
            os.unlink(DOCKERD_PID_FILE)
        if engine_answers():
            say("dockerd is running but was not started by this tool: leaving it alone")
        return
    say("stopping dockerd pid %s" % pid)
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline and process_start_time(pid) is not None:
        time.sleep(0.2)
    if process_start_time(pid) is not None:
        say("dockerd pid %s still running after %ss: SIGKILL" % (pid, wait_seconds))
        os.kill(pid, signal.SIGKILL)
        time.sleep(0.5)
    os.unlink(DOCKERD_PID_FILE)
    remove_stale_engine_pid_file()


def require_engine() -> None:
    if not engine_answers():
        raise LabError("the Docker engine does not answer on %s; run 'tests/lab/lab up'" % DOCKER_SOCKET)


# ---------------------------------------------------------------- input hashes

def read_package_list():
    path = os.path.join(IMAGES_DIR, "base", "packages.txt")
    with open(path) as handle:
        packages = [line.split("#", 1)[0].strip() for line in handle]
    return [package for package in packages if package]


def base_input_hash() -> str:
    recipe = {
        "packages": sorted(read_package_list()),
        "suite": DEBIAN_SUITE,
        "sources": DEBIAN_SOURCES,
        "options": MMDEBSTRAP_OPTIONS,
        "changes": BASE_IMPORT_CHANGES,
    }
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()


def context_files(name: str):
    """(path in build context, path on disk) pairs, sorted: the Dockerfile dir plus copied stand-ins."""
    _tag, context_dir, copies, _args = THIN_IMAGES[name]
    pairs = []
    sources = [("", os.path.join(IMAGES_DIR, context_dir))]
    sources += [(target, os.path.join(STANDINS_DIR, standin)) for target, standin in sorted(copies.items())]
    for prefix, root in sources:
        if not os.path.isdir(root):
            raise LabError("missing build input directory %s" % root)
        for directory, subdirs, files in os.walk(root):
            subdirs[:] = sorted(d for d in subdirs if d not in SKIP_NAMES and not d.startswith("."))
            for filename in sorted(files):
                if filename.endswith(SKIP_SUFFIXES) or filename.startswith("."):
                    continue
                disk_path = os.path.join(directory, filename)
                relative = os.path.relpath(disk_path, root)
                pairs.append((os.path.join(prefix, relative) if prefix else relative, disk_path))
    return sorted(pairs)


def thin_input_hash(name: str, base_hash: str) -> str:
    digest = hashlib.sha256()
    digest.update(("base:%s\n" % base_hash).encode())
    for arg, value in sorted(THIN_IMAGES[name][3].items()):
        digest.update(("build-arg %s=%s\n" % (arg, value)).encode())
    for context_path, disk_path in context_files(name):
        mode = os.stat(disk_path).st_mode & 0o111
        digest.update(("%s %o\n" % (context_path, 1 if mode else 0)).encode())
        with open(disk_path, "rb") as handle:
            digest.update(hashlib.sha256(handle.read()).digest())
    return digest.hexdigest()


def standin_ready(name: str) -> bool:
    """A stand-in image can be built once its directory has a docker-entrypoint.sh."""
    copies = THIN_IMAGES[name][2]
    return all(os.path.exists(os.path.join(STANDINS_DIR, standin, "docker-entrypoint.sh"))
               for standin in copies.values())


def desired_hashes():
    """name -> (tag, wanted input hash or None when its inputs do not exist yet)."""
    base_hash = base_input_hash()
    wanted = {"base": (BASE_TAG, base_hash)}
    for name, (tag, _context, copies, _args) in THIN_IMAGES.items():
        ready = standin_ready(name) if copies else True
        wanted[name] = (tag, thin_input_hash(name, base_hash) if ready else None)
    return wanted


def present_hashes(tags):
    """tag -> input hash label of the local image (None when the image is absent)."""
    result = docker("image", "inspect", "--format", "{{json .Config.Labels}}", *tags, check=False)
    found = {tag: None for tag in tags}
    # Inspect of several names fails as a whole when one is missing: fall back to one by one.
    if result.returncode != 0:
        for tag in tags:
            single = docker("image", "inspect", "--format", "{{json .Config.Labels}}", tag, check=False)
            if single.returncode == 0:
                labels = json.loads(single.stdout.strip() or "null") or {}
                found[tag] = labels.get(HASH_LABEL, "")
        return found
    for tag, line in zip(tags, result.stdout.strip().splitlines()):
        labels = json.loads(line or "null") or {}
        found[tag] = labels.get(HASH_LABEL, "")
    return found


def image_states():
    """name -> (tag, state) where state is current, outdated, absent or waiting (inputs missing)."""
    wanted = desired_hashes()
    present = present_hashes([tag for tag, _hash in wanted.values()])
    states = {}
    for name in IMAGE_ORDER:
        tag, wanted_hash = wanted[name]
        have = present[tag]
        if wanted_hash is None:
            state = "waiting" if have is None else "stale-inputs-missing"
        elif have is None:
            state = "absent"
        elif have != wanted_hash:
            state = "outdated"
        else:
            state = "current"
        states[name] = (tag, state, wanted_hash)
    return states


# ---------------------------------------------------------------- builds

def build_base(wanted_hash: str, fresh_rootfs: bool = False) -> None:
    os.makedirs(CACHE_DIR, exist_ok=True)
    tarball = os.path.join(CACHE_DIR, "rootfs-%s-%s.tar" % (DEBIAN_SUITE, wanted_hash[:16]))
    started = time.monotonic()
    if fresh_rootfs and os.path.exists(tarball):
        os.unlink(tarball)  # --force: new packages (security updates) rather than the cached tarball
    if not os.path.exists(tarball):
        if not shutil.which("mmdebstrap"):
            raise LabError("mmdebstrap not found; run 'lab deps'")
        packages = read_package_list()
        partial = tarball + ".partial"
        say("building base rootfs with mmdebstrap (%s); about a minute" % ", ".join(packages))
        cmd = (["mmdebstrap", "--quiet"] + MMDEBSTRAP_OPTIONS
               + ["--include=" + ",".join(packages), DEBIAN_SUITE, partial] + DEBIAN_SOURCES)
        try:
            run(cmd, timeout=900)
        except LabError:
            if os.path.exists(partial):
                os.unlink(partial)
            raise
        os.rename(partial, tarball)
        say("rootfs %s: %.0f MB in %.1fs" % (tarball, os.path.getsize(tarball) / 1e6, time.monotonic() - started))
    for old in os.listdir(CACHE_DIR):
        if old.startswith("rootfs-") and os.path.join(CACHE_DIR, old) != tarball:
            os.unlink(os.path.join(CACHE_DIR, old))
    changes = []
    for change in BASE_IMPORT_CHANGES + ["LABEL %s=%s" % (HASH_LABEL, wanted_hash),
                                         "LABEL %s=%s" % (IMAGE_LABEL, "base")]:
        changes += ["--change", change]
    docker("import", *changes, "--message", "kongops lab base (mmdebstrap %s)" % DEBIAN_SUITE,
           tarball, BASE_TAG, timeout=600)
    say("imported %s in %.1fs total" % (BASE_TAG, time.monotonic() - started))


def build_thin(name: str, wanted_hash: str, no_cache: bool = False) -> None:
    tag, _context, _copies, build_args = THIN_IMAGES[name]
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="kongops-lab-build-") as context:
        for context_path, disk_path in context_files(name):
            target = os.path.join(context, context_path)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            shutil.copy2(disk_path, target)
        # The classic builder resolves FROM locally; BuildKit could try a registry lookup.
        env = dict(os.environ, DOCKER_BUILDKIT="0")
        cache = ["--no-cache"] if no_cache else []
        for arg, value in sorted(build_args.items()):
            cache += ["--build-arg", "%s=%s" % (arg, value)]
        # --force-rm: a failed step must not leave its intermediate container behind
        docker("build", "--pull=false", "--quiet", "--force-rm", *cache, "--label", "%s=%s" % (HASH_LABEL, wanted_hash),
               "--label", "%s=%s" % (IMAGE_LABEL, name), "-t", tag, context, timeout=600, env=env)
    say("built %s in %.1fs" % (tag, time.monotonic() - started))


def build_images(force: bool = False, only=None) -> int:
    require_engine()
    states = image_states()
    rebuilt_base = False
    failures = []
    for name in IMAGE_ORDER:
        if only and name not in only:
            continue
        tag, state, wanted_hash = states[name]
        if wanted_hash is None:
            say("%s: skipped, stand-in sources are not there yet (%s)" % (tag, STANDINS_DIR))
            continue
        if name == "base":
            if force or state != "current":
                build_base(wanted_hash, fresh_rootfs=force)
                rebuilt_base = True
            continue
        if force or rebuilt_base or state != "current":
            try:
                build_thin(name, wanted_hash, no_cache=force)
            except LabError as exc:
                # one broken stand-in must not keep the engine and the other images from the lab
                failures.append(tag)
                say("FAILED %s: %s" % (tag, exc))
    # dangling layers from replaced images would pile up across rebuilds
    docker("image", "prune", "-f", "--filter", "label=%s" % IMAGE_LABEL, check=False, timeout=120)
    if failures:
        raise LabError("%d image build(s) failed (see above): %s" % (len(failures), ", ".join(failures)))
    return 0


# ---------------------------------------------------------------- containers

def lab_containers():
    """Ids and names of containers created by the lab or the collection (by label)."""
    found = {}
    for label in (LAB_LABEL, CLUSTER_LABEL):
        result = docker("ps", "-a", "--filter", "label=%s" % label, "--format", "{{.ID}} {{.Names}}")
        for line in result.stdout.strip().splitlines():
            container_id, name = line.split(" ", 1)
            found[container_id] = name
    return found


def remove_lab_containers() -> int:
    containers = lab_containers()
    if containers:
        say("removing %d containers: %s" % (len(containers), " ".join(sorted(containers.values()))))
        docker("rm", "-f", "-v", *containers.keys(), timeout=120)
    return len(containers)


def remove_leftovers() -> None:
    """Start from nothing: what an earlier run left (containers, their volumes, host directories) goes."""
    remove_lab_containers()
    volumes = docker("volume", "ls", "-q").stdout.split()
    if volumes:
        say("removing %d volumes: %s" % (len(volumes), " ".join(sorted(volumes))))
        # A volume still in use by a container the lab does not own is kept (docker refuses, check=False).
        docker("volume", "rm", *volumes, check=False, timeout=120)
    if os.path.isdir(COLLECTION_STATE_DIR):
        entries = sorted(os.listdir(COLLECTION_STATE_DIR))
        if entries:
            say("removing %s/{%s}" % (COLLECTION_STATE_DIR, ",".join(entries)))
        for entry in entries:
            path = os.path.join(COLLECTION_STATE_DIR, entry)
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path)
            else:
                os.unlink(path)


def is_lab_container(name: str) -> bool:
    result = docker("inspect", "--type", "container", "--format", "{{json .Config.Labels}}", name, check=False)
    if result.returncode != 0:
        raise LabError("no such container: %s" % name)
    labels = json.loads(result.stdout.strip() or "null") or {}
    return labels.get(LAB_LABEL) == "1" or CLUSTER_LABEL in labels


# ---------------------------------------------------------------- commands

def cmd_up(args) -> int:
    started = time.monotonic()
    with LabLock(wait_seconds=900):
        cmd_deps()
        start_engine()
        if args.clean:
            remove_leftovers()
        build_error = None
        if not args.no_build:
            try:
                build_images()
            except LabError as exc:
                build_error = exc
    say(ADDRESS_PLAN)
    if build_error is not None:
        say("lab up: engine running (%s) but %s" % (describe_engine(), build_error))
        return 1
    say("lab is up (%.1fs); engine %s" % (time.monotonic() - started, describe_engine()))
    return 0


def describe_engine() -> str:
    pid = our_dockerd_pid()
    if pid:
        return "dockerd pid %d started by this tool" % pid
    return "dockerd pid %s not started by this tool" % read_pid(ENGINE_PID_FILE)


def cmd_down(args) -> int:
    with LabLock(wait_seconds=900):
        if engine_answers():
            removed = remove_lab_containers()
            say("removed %d lab containers" % removed)
        if not args.keep_engine:
            stop_engine()
    return 0


def cmd_status(_args) -> int:
    if not engine_answers():
        say("engine: not answering on %s" % DOCKER_SOCKET)
        return 1
    say("engine: answering; %s" % describe_engine())
    for name, (tag, state, _hash) in image_states().items():
        say("image %-9s %-28s %s" % (name, tag, state))
    result = docker("ps", "-a", "--filter", "label=%s" % LAB_LABEL, "--format",
                    "{{.Names}}\t{{.Image}}\t{{.Status}}")
    cluster = docker("ps", "-a", "--filter", "label=%s" % CLUSTER_LABEL, "--format",
                     "{{.Names}}\t{{.Image}}\t{{.Status}}\t{{.Label \"io.kongops.cluster\"}}")
    lines = sorted(set(result.stdout.strip().splitlines() + cluster.stdout.strip().splitlines()) - {""})
    say("containers: %d" % len(lines))
    for line in lines:
        say("  " + line)
    return 0


def expand_image_names(names):
    """Image names as given to `lab build`, groups (kong) expanded; raises LabError on unknown names."""
    expanded = []
    for name in names:
        expanded += IMAGE_GROUPS.get(name, [name])
    unknown = [name for name in expanded if name not in IMAGE_ORDER]
    if unknown:
        known = " ".join(IMAGE_ORDER + sorted(IMAGE_GROUPS))
        raise LabError("unknown image(s) %s; known: %s" % (", ".join(unknown), known))
    return expanded


def cmd_build(args) -> int:
    only = expand_image_names(args.images)
    with LabLock(wait_seconds=900):
        return build_images(force=args.force, only=set(only) or None)


def cmd_images(_args) -> int:
    require_engine()
    states = image_states()
    sizes = docker("images", "--filter", "label=%s" % IMAGE_LABEL, "--format", "{{.Repository}}:{{.Tag}} {{.Size}}")
    size_of = dict(line.split(" ", 1) for line in sizes.stdout.strip().splitlines() if " " in line)
    for name, (tag, state, wanted) in states.items():
        say("%-28s %-10s %-9s %s" % (tag, state, size_of.get(tag, "-"), (wanted or "-")[:12]))
    return 0 if all(state == "current" for _t, state, _h in states.values()) else 3


def cmd_plan(_args) -> int:
    say(ADDRESS_PLAN)
    return 0


def cmd_logs(args) -> int:
    require_engine()
    return subprocess.call([DOCKER, "logs"] + args.docker_args + [args.name], timeout=120)


FAULT_ACTIONS = {
    "stop": lambda name: docker("stop", "-t", "10", name, timeout=30),
    "kill": lambda name: docker("kill", name, timeout=30),
    "pause": lambda name: docker("pause", name, timeout=30),
    "unpause": lambda name: docker("unpause", name, timeout=30),
    "restart": lambda name: docker("restart", "-t", "10", name, timeout=60),
    "start": lambda name: docker("start", name, timeout=30),
}


def cmd_fault(args) -> int:
    require_engine()
    if not is_lab_container(args.name):
        raise LabError("%s carries neither %s=1 nor %s: refusing a fault on a container the lab did not create"
                       % (args.name, LAB_LABEL, CLUSTER_LABEL))
    started = time.monotonic()
    FAULT_ACTIONS[args.action](args.name)
    say("%s %s (%.2fs)" % (args.action, args.name, time.monotonic() - started))
    return 0


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="lab", description=__doc__.split("\n\n", maxsplit=1)[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("deps", help="install missing Debian packages").set_defaults(func=cmd_deps)
    up = commands.add_parser("up", help="engine + images + address plan")
    up.add_argument("--no-build", action="store_true", help="only start the engine")
    up.add_argument("--clean", action="store_true",
                    help="first remove every lab container, every unused volume and the collection's host directories")
    up.set_defaults(func=cmd_up)
    down = commands.add_parser("down", help="remove lab containers, stop the engine this tool started")
    down.add_argument("--keep-engine", action="store_true")
    down.set_defaults(func=cmd_down)
    commands.add_parser("status").set_defaults(func=cmd_status)
    build = commands.add_parser("build", help="build absent or outdated images")
    build.add_argument("--force", action="store_true")
    build.add_argument("images", nargs="*", metavar="IMAGE")
    build.set_defaults(func=cmd_build)
    commands.add_parser("images").set_defaults(func=cmd_images)
    commands.add_parser("plan").set_defaults(func=cmd_plan)
    logs = commands.add_parser("logs")
    logs.add_argument("name")
    logs.add_argument("docker_args", nargs=argparse.REMAINDER)
    logs.set_defaults(func=cmd_logs)
    fault = commands.add_parser("fault", help="stop, kill, pause, unpause, restart or start a lab container")
    fault.add_argument("action", choices=sorted(FAULT_ACTIONS))
    fault.add_argument("name")
    fault.set_defaults(func=cmd_fault)
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if os.geteuid() != 0 and args.command in ("deps", "up", "down", "build"):
        say("lab: %s needs root (apt-get, dockerd)" % args.command)
        return 2
    try:
        return args.func(args)
    except LabError as exc:
        say("lab %s: %s" % (args.command, exc))
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # output cut short by a pager or `head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    sys.exit(main())
