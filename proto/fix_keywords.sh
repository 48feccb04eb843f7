#!/bin/sh
# Rename the C++ namespace generated for `package temporal.api.namespace.v1` (a keyword) to
# `namespace_`. Only C++ identifiers change; wire names and descriptors stay as they are.
set -e
find "$1" -name '*.pb.h' -o -name '*.pb.cc' | xargs sed -i \
  -e 's/namespace namespace {/namespace namespace_ {/g' \
  -e 's/::namespace::/::namespace_::/g'
