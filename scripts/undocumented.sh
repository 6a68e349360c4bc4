#!/usr/bin/env bash
# Lists the public symbols of the Tributary library that have no documentation comment of their own, from the
# compiler's symbol graph, and exits 1 if there is any.
#
#   bash scripts/undocumented.sh [--count] [SYMBOL_GRAPH_DIR]
#
# Without a directory it runs `swift package dump-symbol-graph` first; scripts/docs.sh passes the graph that
# swift-docc-plugin extracted. Each symbol is printed as `file:line: kind name`; --count prints the count only.
# A member that implements a requirement of another module's protocol (description, ==, hash(into:),
# init(from:), makeIterator, …) counts as documented by that protocol's comment, as DocC shows it. Members the
# compiler synthesizes (default implementations, Equatable's ==) are left out.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=list
graphs=""
for argument in "$@"; do
    case "$argument" in
        --count) mode=--count ;;
        *) graphs="$argument" ;;
    esac
done
if [ -z "$graphs" ]; then
    setup_python=no
    source scripts/setup.sh
    log="$(mktemp)"
    trap 'rm -f "$log"' EXIT
    if ! swift package dump-symbol-graph --minimum-access-level public --skip-synthesized-members >"$log" 2>&1; then
        cat "$log" >&2
        exit 2
    fi
    graphs="$(swift build --show-bin-path)/../symbolgraph"
fi
[ -f "$graphs/Tributary.symbols.json" ] || { echo "undocumented: no Tributary.symbols.json in $graphs" >&2; exit 2; }
python3 - "$graphs" "$mode" "$PWD/" <<'PY'
import glob, json, os, sys

directory, mode, root = sys.argv[1], sys.argv[2], sys.argv[3]
missing = []
total = 0
for path in sorted(glob.glob(os.path.join(directory, "Tributary.symbols.json")) +
                   glob.glob(os.path.join(directory, "Tributary@*.symbols.json"))):
    graph = json.load(open(path))
    for symbol in graph["symbols"]:
        if symbol.get("accessLevel") not in ("public", "open") or "::SYNTHESIZED::" in symbol["identifier"]["precise"]:
            continue
        total += 1
        comment = symbol.get("docComment")
        text = comment and any(line.get("text", "").strip() for line in comment.get("lines", []))
        own = text and comment.get("module") in (None, "Tributary")
        inherited = text and comment.get("module") not in (None, "Tributary")
        if own or inherited:
            continue
        location = symbol.get("location", {})
        file = location.get("uri", "").replace("file://", "").replace(root, "")
        line = location.get("position", {}).get("line", -1) + 1
        name = ".".join(symbol["pathComponents"])
        missing.append(f'{file}:{line}: {symbol["kind"]["displayName"].lower()} {name}')
missing = sorted(set(missing))
if mode != "--count":
    for entry in missing:
        print(entry)
print(f"{len(missing)} of {total} public symbols have no documentation comment")
sys.exit(1 if missing else 0)
PY
