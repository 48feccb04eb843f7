#!/usr/bin/env bash
# Checked locking: Clang's thread-safety analysis (-Wthread-safety, as errors) over the annotated
# libraries: the history engine, the store and matching (src/common/thread_annotations.h). Parses
# each translation unit with Debian's clang (-fsyntax-only: no code generation, no link), using
# the include paths and flags of the GCC build in ./build; run scripts/build.sh first (it
# generates the protobuf headers).
#   scripts/check-thread-safety.sh            # all annotated sources
#   scripts/check-thread-safety.sh src/history/start.cc   # some of them
set -euo pipefail
cd "$(dirname "$0")/.."
CLANGXX="${CLANGXX:-clang++}"
command -v "$CLANGXX" >/dev/null || { echo "check-thread-safety: $CLANGXX not found (scripts/deps.sh installs clang)" >&2; exit 1; }
if [ ! -f build/compile_commands.json ] || ! grep -q CMAKE_EXPORT_COMPILE_COMMANDS:BOOL=ON build/CMakeCache.txt; then
  cmake -S . -B build -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >/dev/null
fi
if [ $# -gt 0 ]; then
  files=("$@")
else
  files=(src/history/*.cc src/history/commands/*.cc src/persistence/*.cc)
  for f in src/matching/*.cc; do [ -e "$f" ] && files+=("$f"); done
fi
[ ${#files[@]} -gt 0 ] || exit 0
start=$(date +%s)
# One shell command per file: the GCC command with clang, no output file, thread safety as errors.
node -e '
  const db = require("./build/compile_commands.json");
  const path = require("path");
  const want = new Set(process.argv.slice(1).map((f) => path.resolve(f)));
  for (const e of db) {
    if (!want.has(path.resolve(e.directory, e.file))) continue;
    want.delete(path.resolve(e.directory, e.file));
    const args = e.command.split(/\s+/).filter(Boolean);
    const out = [process.env.CLANGXX || "clang++"];
    for (let i = 1; i < args.length; i++) {
      if (args[i] === "-o" || args[i] === "-c") { i++; continue; }
      if (/^-O|^-g$/.test(args[i])) continue;
      out.push(args[i]);
    }
    out.push("-fsyntax-only", "-Wthread-safety", "-Wthread-safety-beta", "-Werror=thread-safety",
             "-Wno-unknown-warning-option", "-Wno-unused-private-field", path.resolve(e.directory, e.file));
    console.log(`cd ${e.directory} && ${out.join(" ")}`);
  }
  for (const f of want) { console.error(`check-thread-safety: ${f} is not in build/compile_commands.json`); process.exitCode = 1; }
' "${files[@]}" >build/thread-safety-commands.txt
jobs="${BUILD_JOBS:-$(nproc)}"
# xargs exits non-zero if any command failed; every diagnostic is printed.
if ! tr '\n' '\0' <build/thread-safety-commands.txt | xargs -0 -P"$jobs" -I{} bash -c '{}'; then
  echo "check-thread-safety: FAILED (see the errors above)" >&2
  exit 1
fi
echo "check-thread-safety: ${#files[@]} files clean in $(($(date +%s) - start)) s"
