# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""kongops-lab/postgres:15 honours the official postgres image's interface."""

from __future__ import annotations

import socket

import pytest

from conftest import POSTGRES_IMAGE, require_images, wait_until

psycopg2 = pytest.importorskip("psycopg2")

PG_HOST = "127.0.7.10"
PG_PORT = 5432


def connect(password, user="kong", dbname="kongdb", host=PG_HOST, port=PG_PORT):
    return psycopg2.connect(host=host, port=port, user=user, password=password, dbname=dbname, connect_timeout=2)


def query_one(connection, sql):
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()


@pytest.fixture
def postgres_image(lab_engine):
    require_images(POSTGRES_IMAGE)


def start_postgres(containers, tmp_path, name="labtest-pg", volumes=()):
    password_file = tmp_path / "pg-password"
    password_file.write_text("s3cret-from-file\n")
    password_file.chmod(0o644)
    return containers.run(
        name, POSTGRES_IMAGE,
        args=["-c", "listen_addresses=%s" % PG_HOST, "-p", str(PG_PORT), "-c", "fsync=off"],
        env={"POSTGRES_USER": "kong", "POSTGRES_PASSWORD_FILE": "/run/secrets/pg-password",
             "POSTGRES_DB": "kongdb"},
        volumes=["%s:/run/secrets/pg-password:ro" % password_file] + list(volumes),
    )


def test_initialises_with_configured_user_password_and_database(postgres_image, containers, tmp_path):
    name = start_postgres(containers, tmp_path)
    connection = wait_until(lambda: connect("s3cret-from-file"), 20, "postgres accepts kong/kongdb")
    try:
        user, database, superuser = query_one(
            connection, "SELECT current_user, current_database(), rolsuper FROM pg_roles WHERE rolname = current_user")
        listen = query_one(connection, "SHOW listen_addresses")[0]
        data_directory = query_one(connection, "SHOW data_directory")[0]
    finally:
        connection.close()
    assert (user, database, superuser) == ("kong", "kongdb", True)
    assert listen == PG_HOST
    assert data_directory == "/var/lib/postgresql/data"
    # the password is checked over TCP (no trust rule for loopback clients)
    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        connect("wrong-password")
    # it binds only its own address: the neighbouring address has nothing on the port
    with pytest.raises(OSError):
        socket.create_connection(("127.0.7.11", PG_PORT), timeout=1).close()
    # the server runs as the postgres user, not root
    ps = containers.exec(name, "ps", "-o", "user=", "-C", "postgres").stdout.split()
    assert ps and set(ps) == {"postgres"}


def test_second_start_keeps_data_and_skips_initialisation(postgres_image, containers, tmp_path):
    data_dir = tmp_path / "pgdata"
    data_dir.mkdir()
    name = start_postgres(containers, tmp_path, volumes=["%s:/var/lib/postgresql/data" % data_dir])
    connection = wait_until(lambda: connect("s3cret-from-file"), 20, "first start accepts connections")
    with connection, connection.cursor() as cursor:
        cursor.execute("CREATE TABLE marker (value text); INSERT INTO marker VALUES ('kept')")
    connection.close()
    containers.remove(name)

    name = start_postgres(containers, tmp_path, name="labtest-pg-again",
                          volumes=["%s:/var/lib/postgresql/data" % data_dir])
    connection = wait_until(lambda: connect("s3cret-from-file"), 20, "second start accepts connections")
    try:
        assert query_one(connection, "SELECT value FROM marker") == ("kept",)
    finally:
        connection.close()
    assert "skipping initialization" in containers.logs(name)


def test_refuses_to_initialise_without_a_password(postgres_image, containers):
    name = containers.run("labtest-pg-nopass", POSTGRES_IMAGE,
                          args=["-c", "listen_addresses=%s" % PG_HOST], env={"POSTGRES_USER": "kong"})
    assert containers.wait_exit(name, 20) == 1
    assert "superuser password is not specified" in containers.logs(name)
