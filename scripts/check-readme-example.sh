#!/usr/bin/env bash
# The README's "Write a worker in C++" promises that its first C++ code block is a complete
# program that builds against the installed SDK alone. That program is examples/hello_world.cc,
# which CI builds in-tree and out of tree (examples/out_of_tree); this check keeps the README's
# copy identical to it, so the block a newcomer copies is the one that was built.
set -euo pipefail
root="${1:-$(cd "$(dirname "$0")/.." && pwd)}"
block="$(awk '/^## Write a worker in C\+\+/ { in_section = 1; next }
              in_section && /^## / { exit }
              in_section && !in_code && /^```cpp$/ { in_code = 1; next }
              in_code && /^```$/ { exit }
              in_code { print }' "$root/README.md")"
if [[ -z "$block" ]]; then
  echo "README.md: no \`\`\`cpp block in \"Write a worker in C++\"" >&2
  exit 1
fi
if ! diff -u "$root/examples/hello_world.cc" <(printf '%s\n' "$block") >&2; then
  echo "README.md's first C++ block differs from examples/hello_world.cc (above): copy one to the other" >&2
  exit 1
fi
echo "README example = examples/hello_world.cc ($(printf '%s\n' "$block" | wc -l) lines)"
