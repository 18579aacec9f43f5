#!/bin/sh
# Entrypoint of the kongops-lab/consul image, with the interface of the official hashicorp/consul one
# (hashicorp/consul .release/docker/docker-entrypoint.sh): same variables, same order of steps, same privilege drop.
set -e

# CONSUL_BIND_INTERFACE / CONSUL_CLIENT_INTERFACE: look up the interface's IPv4 address.
interface_address() {
    ip -o -4 addr list "$1" 2>/dev/null | head -n 1 | awk '{print $4}' | cut -d/ -f1
}
if [ -z "$CONSUL_BIND" ] && [ -n "$CONSUL_BIND_INTERFACE" ]; then
    CONSUL_BIND_ADDRESS=$(interface_address "$CONSUL_BIND_INTERFACE")
    if [ -z "$CONSUL_BIND_ADDRESS" ]; then
        echo "Could not find IP for interface '$CONSUL_BIND_INTERFACE', exiting"
        exit 1
    fi
    CONSUL_BIND="-bind=$CONSUL_BIND_ADDRESS"
    echo "==> Found address '$CONSUL_BIND_ADDRESS' for interface '$CONSUL_BIND_INTERFACE', setting bind option..."
fi
if [ -z "$CONSUL_CLIENT" ] && [ -n "$CONSUL_CLIENT_INTERFACE" ]; then
    CONSUL_CLIENT_ADDRESS=$(interface_address "$CONSUL_CLIENT_INTERFACE")
    if [ -z "$CONSUL_CLIENT_ADDRESS" ]; then
        echo "Could not find IP for interface '$CONSUL_CLIENT_INTERFACE', exiting"
        exit 1
    fi
    CONSUL_CLIENT="-client=$CONSUL_CLIENT_ADDRESS"
    echo "==> Found address '$CONSUL_CLIENT_ADDRESS' for interface '$CONSUL_CLIENT_INTERFACE', setting client option..."
fi

# The data dir (a volume) and the config dir, overridable; neither is created here (the image has both).
CONSUL_DATA_DIR=${CONSUL_DATA_DIR:-/consul/data}
CONSUL_CONFIG_DIR=${CONSUL_CONFIG_DIR:-/consul/config}

# Configuration JSON passed through the environment, as with the official image.
if [ -n "$CONSUL_LOCAL_CONFIG" ]; then
    echo "$CONSUL_LOCAL_CONFIG" > "$CONSUL_CONFIG_DIR/local.json"
fi

# Arguments starting with a dash are consul flags.
case "$1" in
    -*) set -- consul "$@" ;;
esac

if [ "$1" = 'agent' ]; then
    shift
    # shellcheck disable=SC2086
    set -- consul agent \
        -data-dir="$CONSUL_DATA_DIR" \
        -config-dir="$CONSUL_CONFIG_DIR" \
        $CONSUL_BIND \
        $CONSUL_CLIENT \
        "$@"
else
    case "$1" in
        version|members|operator|leave|join|info|keygen|reload|catalog)
            set -- consul "$@" ;;
    esac
fi

# Running consul: unless CONSUL_DISABLE_PERM_MGMT is set (even empty), chown the data and config directories
# themselves (not their contents) when their owner differs, then drop to CONSUL_UID:CONSUL_GID (default: the image's
# consul user). The official image uses su-exec; Debian has setpriv (util-linux). With a passwd entry the user's
# supplementary groups are set as su-exec does (initgroups); without one only the group itself.
if [ "$1" = 'consul' ] && [ -z "${CONSUL_DISABLE_PERM_MGMT+x}" ]; then
    if [ -z "$CONSUL_UID" ]; then
        CONSUL_UID="$(id -u consul)"
    fi
    if [ -z "$CONSUL_GID" ]; then
        CONSUL_GID="$(id -g consul)"
    fi
    if [ "$(stat -c %u "$CONSUL_DATA_DIR")" != "${CONSUL_UID}" ]; then
        chown "${CONSUL_UID}:${CONSUL_GID}" "$CONSUL_DATA_DIR"
    fi
    if [ "$(stat -c %u "$CONSUL_CONFIG_DIR")" != "${CONSUL_UID}" ]; then
        chown "${CONSUL_UID}:${CONSUL_GID}" "$CONSUL_CONFIG_DIR"
    fi
    if passwd_entry=$(getent passwd "$CONSUL_UID"); then
        HOME=$(printf '%s\n' "$passwd_entry" | cut -d: -f6)
        export HOME
        set -- setpriv --reuid="$CONSUL_UID" --regid="$CONSUL_GID" --init-groups "$@"
    else
        HOME=/
        export HOME
        set -- setpriv --reuid="$CONSUL_UID" --regid="$CONSUL_GID" --groups="$CONSUL_GID" "$@"
    fi
fi

exec "$@"
