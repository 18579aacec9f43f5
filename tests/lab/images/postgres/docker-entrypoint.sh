#!/usr/bin/env bash
# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Entrypoint of kongops-lab/postgres:15, following the interface of the official postgres image:
#   POSTGRES_PASSWORD (or POSTGRES_PASSWORD_FILE; required unless POSTGRES_HOST_AUTH_METHOD=trust),
#   POSTGRES_USER (default postgres), POSTGRES_DB (default = user), POSTGRES_INITDB_ARGS,
#   POSTGRES_HOST_AUTH_METHOD (default scram-sha-256), PGDATA (default /var/lib/postgresql/data),
#   *.sh / *.sql / *.sql.gz in /docker-entrypoint-initdb.d on first start,
#   arguments starting with '-' are passed to postgres (e.g. -c listen_addresses=127.0.1.10 -p 5432).
# Lab differences (host networking on a shared loopback): the default listen address stays
# 'localhost' instead of '*', and TCP from 127.0.0.1 needs the password too (no initdb trust rule).
set -Eeuo pipefail

# file_env VAR [DEFAULT]: VAR or VAR_FILE (not both), as in the official image
file_env() {
	local var="$1" file_var="${1}_FILE" default="${2:-}"
	if [ -n "${!var:-}" ] && [ -n "${!file_var:-}" ]; then
		echo >&2 "error: both $var and $file_var are set (but are exclusive)"
		exit 1
	fi
	local value="$default"
	if [ -n "${!var:-}" ]; then
		value="${!var}"
	elif [ -n "${!file_var:-}" ]; then
		value="$(< "${!file_var}")"
	fi
	export "$var"="$value"
	unset "$file_var"
}

log() { echo "$(date -u '+%Y-%m-%d %H:%M:%S.%3N UTC') [entrypoint] $*"; }

export PGDATA="${PGDATA:-/var/lib/postgresql/data}"

if [ "${1:0:1}" = '-' ]; then
	set -- postgres "$@"
fi

prepare_dirs_as_root() {
	mkdir -p "$PGDATA" /var/run/postgresql
	chmod 00700 "$PGDATA" || :
	chown -R postgres:postgres "$PGDATA" /var/run/postgresql
	chmod 03775 /var/run/postgresql
}


init_database() {
	file_env POSTGRES_PASSWORD
	file_env POSTGRES_USER postgres
	file_env POSTGRES_DB "$POSTGRES_USER"
	file_env POSTGRES_INITDB_ARGS
	local auth="${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}"
	if [ -z "$POSTGRES_PASSWORD" ] && [ "$auth" != trust ]; then
		cat >&2 <<-'EOM'
			Error: Database is uninitialized and superuser password is not specified.
			       You must specify POSTGRES_PASSWORD to a non-empty value for the
			       superuser. For example, "-e POSTGRES_PASSWORD=password" on "docker run".
			       You may also use "POSTGRES_HOST_AUTH_METHOD=trust" to allow all
			       connections without a password. This is *not* recommended.
		EOM
		exit 1
	fi
	log "initialising $PGDATA for user $POSTGRES_USER"
	local local_auth=trust host_auth="$auth"
	# shellcheck disable=SC2086  # POSTGRES_INITDB_ARGS is a word list by contract
	initdb --username="$POSTGRES_USER" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") \
		--auth-local="$local_auth" --auth-host="$host_auth" $POSTGRES_INITDB_ARGS >/dev/null
	printf '\n# kongops lab: every TCP client, password method %s\nhost all all all %s\n' "$auth" "$auth" >> "$PGDATA/pg_hba.conf"

	# temporary server on the unix socket only, to create the database and run init scripts
	pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -p ${PGPORT:-5432} -k /var/run/postgresql" -w -t 60 start >/dev/null
	export PGHOST=/var/run/postgresql PGPORT="${PGPORT:-5432}" PGUSER="$POSTGRES_USER"
	local psql=(psql -v ON_ERROR_STOP=1 --no-psqlrc --quiet --username "$POSTGRES_USER" --dbname postgres)
	if [ "$POSTGRES_DB" != postgres ]; then
		"${psql[@]}" --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db";'
		log "created database $POSTGRES_DB"
	fi
	psql+=(--dbname "$POSTGRES_DB")
	local f
	for f in /docker-entrypoint-initdb.d/*; do
		case "$f" in
			*.sh)
				if [ -x "$f" ]; then log "running $f"; "$f"; else log "sourcing $f"; . "$f"; fi ;;
			*.sql) log "running $f"; "${psql[@]}" -f "$f" ;;
			*.sql.gz) log "running $f"; gunzip -c "$f" | "${psql[@]}" ;;
			*) [ -e "$f" ] && log "ignoring $f" ;;
		esac
	done
	pg_ctl -D "$PGDATA" -m fast -w -t 60 stop >/dev/null
	unset PGHOST PGUSER
	log "PostgreSQL init process complete; ready for start up."
}

if [ "$1" = 'postgres' ]; then
	if [ "$(id -u)" = '0' ]; then
		prepare_dirs_as_root
		exec setpriv --reuid=postgres --regid=postgres --init-groups "${BASH_SOURCE[0]}" "$@"
	fi
	if [ ! -s "$PGDATA/PG_VERSION" ]; then
		init_database
	else
		log "PostgreSQL Database directory appears to contain a database; skipping initialization"
	fi
	# Debian's postgres reads PGDATA and puts its socket in /var/run/postgresql by default
	exec "$@"
fi

exec "$@"
