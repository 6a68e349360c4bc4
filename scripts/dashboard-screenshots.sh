#!/usr/bin/env bash
# Makes the dashboard screenshots of the README (docs/images/dashboard-*.png) from a demo: a private
# redis-server, a release flow whose integration tests fail, a run still going, and queues with jobs in several
# states; then `tributary dashboard` and headless Chromium (Tests/TributaryTests/Python/browser.py).
#
#   bash scripts/dashboard-screenshots.sh [OUTPUT_DIR]      (default docs/images)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
swift build --product tributary
root="$(pwd)"
output="$(mkdir -p "${1:-docs/images}" && cd "${1:-docs/images}" && pwd)"
work="$(mktemp -d /tmp/tributary-shots.XXXXXX)"
dashboard_pid=""
cleanup() {
    [ -z "$dashboard_pid" ] || kill "$dashboard_pid" 2>/dev/null || true
    [ -f "$work/redis.pid" ] && kill "$(cat "$work/redis.pid")" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
redis-server --port 0 --unixsocket "$work/redis.sock" --save "" --appendonly no --daemonize yes \
    --pidfile "$work/redis.pid" --dir "$work" >/dev/null
for _ in $(seq 100); do [ -S "$work/redis.sock" ] && break; sleep 0.1; done
export REDIS_URL="unix://$work/redis.sock"
tributary="$root/.build/debug/tributary"
cd "$work"

cat > release.json <<'FLOW'
{"flow": "release", "queue": "builds",
 "nodes": {
   "checkout":          {"run": ["sh", "-c", "cat >/dev/null; echo '{\"commit\": \"4f2a9c1\"}'"]},
   "lint":              {"needs": "checkout", "run": ["sh", "-c", "cat >/dev/null; echo ok"]},
   "build-linux":       {"name": "build", "needs": "checkout", "run": ["sh", "-c", "cat >/dev/null; echo '\"app-linux.tar\"'"]},
   "build-mac":         {"name": "build", "needs": "checkout", "run": ["sh", "-c", "cat >/dev/null; echo '\"app-mac.tar\"'"]},
   "unit-tests":        {"needs": "build-linux", "run": ["sh", "-c", "cat >/dev/null; echo '{\"passed\": 412}'"]},
   "integration-tests": {"needs": ["build-linux", "build-mac"], "run": ["sh", "-c", "cat >/dev/null; echo 'connection refused: db:5432' >&2; exit 1"]},
   "package":           {"needs": ["build-linux", "build-mac", "lint"], "run": ["sh", "-c", "cat >/dev/null; echo '{\"artifacts\": 2}'"]},
   "docs":              {"needs": "checkout", "run": ["sh", "-c", "cat >/dev/null; echo built"]},
   "publish":           {"needs": ["package", "unit-tests", "integration-tests", "docs"], "run": ["sh", "-c", "cat; echo"]}}}
FLOW
"$tributary" run release.json --run-id release-1841 --work --allow-commands --wait >/dev/null 2>&1 || true
"$tributary" run release.json --run-id release-1842 >/dev/null
"$tributary" run "$root/flows/map-reduce.json" --run-id words-7 --work --allow-commands --wait >/dev/null 2>&1 || true
for index in $(seq 1 40); do "$tributary" job add welcome --queue emails --data "{\"to\": \"user$index@example.com\"}" >/dev/null; done
for index in $(seq 1 6); do "$tributary" job add digest --queue emails --delay 1h >/dev/null; done
"$tributary" queue limit emails --concurrency 4 >/dev/null
"$tributary" schedule add weekly-digest --queue emails --job digest --cron "0 8 * * 1" >/dev/null

"$tributary" dashboard --port 0 --read-only >"$work/dashboard.out" 2>&1 &
dashboard_pid=$!
port=""
for _ in $(seq 300); do
    port="$(sed -n 's|^tributary dashboard: http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$work/dashboard.out")"
    [ -n "$port" ] && break
    sleep 0.1
done
[ -n "$port" ] || { cat "$work/dashboard.out" >&2; exit 1; }
python="$root/.venv/bin/python"
browser="$root/Tests/TributaryTests/Python/browser.py"
"$python" "$browser" screenshot "http://127.0.0.1:$port" / "$output/dashboard-queues.png" 1100 330
"$python" "$browser" screenshot "http://127.0.0.1:$port" /queues/emails "$output/dashboard-queue.png" 1100 620
"$python" "$browser" screenshot "http://127.0.0.1:$port" /runs/release-1841 "$output/dashboard-run.png" 1200 560
echo "screenshots in $output"
