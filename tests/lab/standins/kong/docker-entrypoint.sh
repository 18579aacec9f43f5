#!/usr/bin/env bash
# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Entrypoint of the Kong stand-in image, with the behaviour of Kong/docker-kong docker-entrypoint.sh (3.9.1):
# - KONG_<X>_FILE becomes KONG_<X> only for the settings this Kong version knows (its kong_defaults.lua keys,
#   kong_standin/known_keys/<version>.txt), in a loop run under `set +Eeo pipefail`: an unreadable file
#   prints bash's "...: Permission denied", the setting is exported empty, _FILE is unset, and we carry on.
#   Both KONG_<X> and KONG_<X>_FILE set: error, exit 1.
# - `kong docker-start` is handled here: `kong prepare -p $PREFIX`, then exec nginx (the stand-in's).
set -Eeo pipefail

here=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")

# usage: file_env VAR; fills VAR from the file named by VAR_FILE (Docker secrets)
file_env() {
  local var="$1"
  local fileVar="${var}_FILE"
  if ! [ "${!fileVar:-}" ]; then
    return
  elif [ "${!var:-}" ] && [ "${!fileVar:-}" ]; then
    echo >&2 "error: both $var and $fileVar are set (but are exclusive)"
    exit 1
  fi
  local val=""
  val="$(< "${!fileVar}")"
  export "$var"="$val"
  unset "$fileVar"
}

# The known-key list of the newest listed version at or below KONG_VERSION (the oldest list otherwise).
known_keys_file() {
  local wanted="${KONG_VERSION:-3.9.1}" chosen="" file version
  for file in "$here"/kong_standin/known_keys/*.txt; do
    version=$(basename "$file" .txt)
    [ -n "$chosen" ] || chosen="$file"
    if [ "$(printf '%s\n%s\n' "$version" "$wanted" | sort -V | head -n 1)" = "$version" ]; then
      chosen="$file"
    fi
  done
  echo "$chosen"
}

export KONG_NGINX_DAEMON=${KONG_NGINX_DAEMON:=off}

if [[ "$1" == "kong" ]]; then
  all_kong_options=$(known_keys_file)
  set +Eeo pipefail
  while IFS='' read -r LINE || [ -n "${LINE}" ]; do
    case "$LINE" in "#"*|"") continue ;; esac
    opt="${LINE^^}"
    file_env "KONG_$opt"
  done < "$all_kong_options"
  set -Eeo pipefail

  file_env KONG_PASSWORD
  PREFIX=${KONG_PREFIX:=/usr/local/kong}

  if [[ "$2" == "docker-start" ]]; then
    kong prepare -p "$PREFIX" "$@"

    # remove dangling unix sockets left in the prefix by an unclean shutdown
    LOGGED_SOCKET_WARNING=0
    for localfile in "$PREFIX"/* "$PREFIX"/sockets/*; do
      if [ -S "$localfile" ]; then
        if (( LOGGED_SOCKET_WARNING == 0 )); then
          printf >&2 'WARN: found dangling unix sockets in the prefix directory (%q) ' "$PREFIX"
          printf >&2 'while preparing to start Kong. This may be a sign that Kong was previously shut down '
          printf >&2 'uncleanly or is in an unknown state and could require further investigation.\n'
          LOGGED_SOCKET_WARNING=1
        fi
        rm -f "$localfile"
      fi
    done

    ln -sfn /dev/stdout "$PREFIX/logs/access.log"
    ln -sfn /dev/stdout "$PREFIX/logs/admin_access.log"
    ln -sfn /dev/stderr "$PREFIX/logs/error.log"

    exec "$here/nginx" -p "$PREFIX" -c nginx.conf
  fi
fi

exec "$@"
