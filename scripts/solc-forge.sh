#!/usr/bin/env bash
# A native-solc stand-in for Foundry, which cannot download a compiler here (foundry.toml `solc`).
# `--version` answers the way native solc does; `--standard-json` runs the pinned npm `solc`
# package (solc-js 0.8.28) on stdin. solc-js prints a notice about missing SMT solvers on
# stdout, in lines that begin with ">>> "; they are dropped so that stdout is pure JSON.
# Other flags Foundry may pass (--base-path, --allow-paths, ...) are not needed: the
# standard-JSON input already carries every source's content.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
solcjs="$root/node_modules/solc/solc.js"

for arg in "$@"; do
  if [[ "$arg" == "--version" ]]; then
    version="$(node -p 'require(process.argv[1]).version' "$root/node_modules/solc/package.json")"
    if [[ "$version" != "0.8.28" ]]; then
      echo "solc-forge: npm package solc is $version; foundry.toml needs exactly 0.8.28" >&2
      exit 1
    fi
    echo "solc, the solidity compiler commandline interface"
    echo "Version: 0.8.28+commit.7893614a.Linux.g++"
    exit 0
  fi
done

for arg in "$@"; do
  if [[ "$arg" == "--standard-json" ]]; then
    # solc.js reads stdin with readFileSync, which fails with EAGAIN on a non-blocking pipe, and
    # exits before a pipe drains (output cut at 64 KiB): both ends go through regular files.
    input="$(mktemp "${TMPDIR:-/tmp}/solc-forge-in.XXXXXX")"
    output="$(mktemp "${TMPDIR:-/tmp}/solc-forge-out.XXXXXX")"
    trap 'rm -f "$input" "$output"' EXIT
    cat > "$input"
    node "$solcjs" --standard-json < "$input" > "$output"
    # grep exits 1 when it selects no line; only a real failure (>1) is an error.
    grep -v '^>>> ' "$output" || [[ $? -eq 1 ]]
    exit 0
  fi
done

echo "solc-forge: only --version and --standard-json are supported (got: $*)" >&2
exit 2
