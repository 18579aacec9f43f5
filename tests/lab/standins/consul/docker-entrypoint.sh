#!/bin/sh
# Entrypoint of the kongops-lab/consul image, with the interface of the official hashicorp/consul one.
set -e

CONSUL_DATA_DIR=/consul/data
CONSUL_CONFIG_DIR=/consul/config
mkdir -p "$CONSUL_DATA_DIR" "$CONSUL_CONFIG_DIR"

# CONSUL_BIND_INTERFACE / CONSUL_CLIENT_INTERFACE: look up the interface's IPv4 address.
interface_address() {
    ip -o -4 addr list "$1" 2>/dev/null | head -n 1 | awk '{print $4}' | cut -d/ -f1
}
CONSUL_BIND=
if [ -n "$CONSUL_BIND_INTERFACE" ]; then
    CONSUL_BIND_ADDRESS=$(interface_address "$CONSUL_BIND_INTERFACE")
    if [ -z "$CONSUL_BIND_ADDRESS" ]; then
        echo "Could not find IP for interface '$CONSUL_BIND_INTERFACE', exiting"
        exit 1
    fi
    CONSUL_BIND="-bind=$CONSUL_BIND_ADDRESS"
    echo "==> Found address '$CONSUL_BIND_ADDRESS' for interface '$CONSUL_BIND_INTERFACE', setting bind option..."
fi
CONSUL_CLIENT=
if [ -n "$CONSUL_CLIENT_INTERFACE" ]; then
    CONSUL_CLIENT_ADDRESS=$(interface_address "$CONSUL_CLIENT_INTERFACE")
    if [ -z "$CONSUL_CLIENT_ADDRESS" ]; then
        echo "Could not find IP for interface '$CONSUL_CLIENT_INTERFACE', exiting"
        exit 1
    fi
    CONSUL_CLIENT="-client=$CONSUL_CLIENT_ADDRESS"
    echo "==> Found address '$CONSUL_CLIENT_ADDRESS' for interface '$CONSUL_CLIENT_INTERFACE', setting client option..."
fi

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

exec "$@"
