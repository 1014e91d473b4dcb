#!/usr/bin/env bash
# Runs every ```sh block of a Markdown guide, in order, in one shell, from the repository's
# root: the check that a guide's commands work in a fresh clone.
set -euo pipefail
guide="${1:?usage: Scripts/run_guide.sh GUIDE.md}"
cd "$(dirname "$0")/.."
script="$(mktemp)"
awk '/^```sh$/ { inside = 1; next } /^```$/ { inside = 0; next } inside { print }' "$guide" > "$script"
echo "running $(grep -c . "$script") lines of commands from $guide"
bash -euo pipefail -x "$script"
echo "all commands of $guide ran"
