#!/bin/sh
# Container entrypoint: `temporalite server start-dev` on all interfaces of the container (its
# network is the boundary; compose publishes the ports), data in $TEMPORALITE_DATA_DIR.
# exec: the server is PID 1 and gets SIGTERM itself. Extra arguments go to start-dev, and a
# temporalite.yaml in the data directory is read when present.
set -eu
: "${TEMPORALITE_DATA_DIR:=/data}"
: "${TEMPORALITE_IP:=0.0.0.0}"
: "${TEMPORALITE_PORT:=7233}"
: "${TEMPORALITE_UI_PORT:=8233}"
: "${TEMPORALITE_HTTP_PORT:=7243}"
: "${TEMPORALITE_BIN:=temporalite}"
mkdir -p "$TEMPORALITE_DATA_DIR"
if [ -z "${TEMPORALITE_CONFIG:-}" ] && [ -f "$TEMPORALITE_DATA_DIR/temporalite.yaml" ]; then
  export TEMPORALITE_CONFIG="$TEMPORALITE_DATA_DIR/temporalite.yaml"
fi
exec "$TEMPORALITE_BIN" server start-dev \
  --ip "$TEMPORALITE_IP" \
  --port "$TEMPORALITE_PORT" \
  --ui-port "$TEMPORALITE_UI_PORT" \
  --http-port "$TEMPORALITE_HTTP_PORT" \
  --db-filename "$TEMPORALITE_DATA_DIR/temporalite.db" \
  "$@"
