# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The datastore role's streaming replica, built from the lab postgres image by the role itself.

A primary (datastore group) and a replica (datastore_replicas group, tasks_from: replica) on 127.0.8.10/11, cluster
``hp`` (containers hp-postgres, hp-postgres-dc2); everything is removed afterwards.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
import time

import pytest

from conftest import POSTGRES_IMAGE, docker, require_images, wait_until

psycopg2 = pytest.importorskip("psycopg2")

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
PRIMARY, REPLICA, PORT = "127.0.8.10", "127.0.8.11", 5432
CONTAINERS = ("hp-postgres", "hp-postgres-dc2")
VOLUMES = ("hp-postgres-data", "hp-postgres-dc2-data")
KONG_PASSWORD = "hp-kong-password"
# a colon and a quote: the password file and the SQL literal must escape them
REPLICATION_PASSWORD = "hp:repl'pass"

PLAYBOOK = """
- name: Primary
  hosts: datastore
  gather_facts: false
  roles:
    - role: kongops.cluster.datastore
- name: Replicas
  hosts: datastore_replicas
  gather_facts: false
  tasks:
    - name: Run the replica
      ansible.builtin.include_role:
        name: kongops.cluster.datastore
        tasks_from: replica
    - name: Show the replica's state
      ansible.builtin.debug:
        msg: "replica {{ datastore_replica | default('unmeasured') | to_json }}"
"""


def inventory(tmp_path):
    return textwrap.dedent("""
        all:
          vars:
            ansible_connection: local
            ansible_python_interpreter: "{{{{ ansible_playbook_python }}}}"
            kongops_cluster_name: hp
            datastore_image: {image}
            datastore_pull: never
            kongops_pg_password: {kong}
            kongops_pg_replication_password: "{repl}"
            kongops_pg_host: {primary}
            datastore_secrets_dir: {tmp}/secrets-primary
            datastore_replica_secrets_dir: {tmp}/secrets-replica
          children:
            datastore:
              hosts:
                hp-primary: {{datastore_address: {primary}, datacenter: dc1}}
            datastore_replicas:
              hosts:
                hp-replica: {{datastore_address: {replica}, datacenter: dc2}}
        """).format(image=POSTGRES_IMAGE, kong=KONG_PASSWORD, repl=REPLICATION_PASSWORD, primary=PRIMARY,
                    replica=REPLICA, tmp=tmp_path)


def remove_all():
    docker("rm", "-f", "-v", *CONTAINERS, "hp-postgres-dc2-basebackup", check=False, timeout=120)
    docker("volume", "rm", *VOLUMES, check=False)


@pytest.fixture
def lab(lab_engine, tmp_path):
    require_images(POSTGRES_IMAGE)
    subprocess.run([os.path.join(ROOT, "tests", "link-collection")], check=True, timeout=30)
    remove_all()
    (tmp_path / "hosts.yml").write_text(inventory(tmp_path))
    (tmp_path / "play.yml").write_text(PLAYBOOK)
    yield tmp_path
    remove_all()


def playbook(tmp_path, *args):
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_FORCE_COLOR="0")
    # The ansible-playbook of the venv running these tests (tests/run-all does not put the venv on PATH).
    ansible_playbook = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    result = subprocess.run([ansible_playbook, "-i", str(tmp_path / "hosts.yml"), str(tmp_path / "play.yml")]
                            + list(args), cwd=ROOT, env=env, text=True, capture_output=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    recap = result.stdout.split("PLAY RECAP")[-1]
    result.changed = {host: int(n) for host, n in re.findall(r"^(\S+)\s+:.*?changed=(\d+)", recap, re.M)}
    return result


def connect(host):
    return psycopg2.connect(host=host, port=PORT, user="kong", password=KONG_PASSWORD, dbname="kong",
                            connect_timeout=2)


def query(host, sql, *params):
    connection = connect(host)
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
    finally:
        connection.close()


def test_role_builds_a_streaming_replica_that_follows_the_primary(lab):
    first = playbook(lab)
    assert first.changed["hp-primary"] > 0 and first.changed["hp-replica"] > 0
    assert re.search(r'replica \{.*"status": "streaming"', first.stdout), first.stdout[-3000:]
    lag = float(re.search(r'"lag_seconds": ([0-9.]+)', first.stdout).group(1))
    print("measured lag after the copy: %.3f s" % lag)

    # the primary sees the replica streaming under its container name. On one machine's loopback the kernel picks
    # 127.0.0.1 as the source of every connection (libpq cannot bind a source address), so here the replica comes
    # in through initdb's own "host replication all 127.0.0.1/32" rule; on separate hosts it comes from its address,
    # which the role's line lets in. That line is checked as PostgreSQL parsed it.
    rows = query(PRIMARY, "SELECT application_name, host(client_addr), state FROM pg_stat_replication")
    assert rows == [("hp-postgres-dc2", "127.0.0.1", "streaming")]
    rules = query(PRIMARY, "SELECT type, database, user_name, address, netmask, auth_method, error "
                           "FROM pg_hba_file_rules WHERE address = %s", REPLICA)
    assert rules == [("host", ["replication"], ["replicator"], REPLICA, "255.255.255.255", "scram-sha-256", None)]

    # a row written on the primary appears on the replica within a bounded time
    connection = connect(PRIMARY)
    with connection, connection.cursor() as cursor:
        cursor.execute("CREATE TABLE hp_marker (value text); INSERT INTO hp_marker VALUES ('from-primary')")
    connection.close()
    started = time.monotonic()
    wait_until(lambda: query(REPLICA, "SELECT value FROM hp_marker") == [("from-primary",)], 10,
               "the primary's row on the replica")
    print("row visible on the replica after %.3f s" % (time.monotonic() - started))

    # the replica is a read-only standby
    with pytest.raises(psycopg2.Error, match="cannot execute INSERT in a read-only transaction"):
        query(REPLICA, "INSERT INTO hp_marker VALUES ('on-replica')")
    assert query(REPLICA, "SELECT pg_is_in_recovery()") == [(True,)]

    # the password is in no configuration file of the replica: -R wrote the password file's path
    auto_conf = docker("exec", "hp-postgres-dc2", "cat", "/var/lib/postgresql/data/postgresql.auto.conf").stdout
    assert "passfile=''/run/secrets/kongops/replication_pgpass''" in auto_conf
    assert "repl'pass" not in auto_conf and "password=" not in auto_conf

    # a rerun and check mode change nothing
    assert set(playbook(lab).changed.values()) == {0}
    assert set(playbook(lab, "--check").changed.values()) == {0}


def test_check_mode_on_nothing_changes_nothing(lab):
    playbook(lab, "--check")
    for name in CONTAINERS:
        assert docker("container", "inspect", name, check=False).returncode != 0
    for name in VOLUMES:
        assert docker("volume", "inspect", name, check=False).returncode != 0
