#!/bin/sh
# Container health check: the server's readiness endpoint on the HTTP port (ready = the database
# is open and recovered and the gRPC port serves).
set -eu
exec curl --fail --silent --show-error --max-time 3 "http://127.0.0.1:${TEMPORALITE_HTTP_PORT:-7243}/readyz"
