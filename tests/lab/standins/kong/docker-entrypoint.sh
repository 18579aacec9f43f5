#!/usr/bin/env bash
# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Entrypoint of the Kong stand-in image, with the interface of the official image's entrypoint:
# every KONG_<X>_FILE becomes KONG_<X> (the file's contents) in this process environment only,
# nginx daemon mode is off, and "kong docker-start" runs the node in the foreground.
set -Eeo pipefail

# file_env VAR: fill VAR from the file named by VAR_FILE (Docker secrets); both set is an error.
file_env() {
  local var="$1"
  local file_var="${var}_FILE"
  if [ -z "${!file_var:-}" ]; then
    return 0
  fi
  if [ -n "${!var:-}" ]; then
    echo >&2 "error: both $var and $file_var are set (but are exclusive)"
    exit 1
  fi
  local val
  val="$(< "${!file_var}")"
  export "$var"="$val"
  unset "$file_var"
}

export KONG_NGINX_DAEMON="${KONG_NGINX_DAEMON:=off}"
export PYTHONUNBUFFERED=1

if [[ "${1:-}" == "kong" ]]; then
  for file_var in $(compgen -e | grep -E '^KONG_[A-Z0-9_]+_FILE$' || true); do
    file_env "${file_var%_FILE}"
  done
  file_env KONG_PASSWORD
  export KONG_PREFIX="${KONG_PREFIX:=/usr/local/kong}"
fi

exec "$@"
