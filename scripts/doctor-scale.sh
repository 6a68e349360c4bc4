#!/usr/bin/env bash
# Measures `tributary doctor` on a large queue: fills a private redis-server with N jobs (default 1,000,000:
# 90% completed, 10% waiting, one job in no state and one dangling id to find), then times the examination and
# reports the doctor's peak RSS.
#
#   bash scripts/doctor-scale.sh [JOBS] [debug|release]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
command -v /usr/bin/time >/dev/null 2>&1 || { sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo; $sudo apt-get install -y -qq time >/dev/null; }
jobs="${1:-1000000}"
configuration="${2:-release}"
swift build -c "$configuration" --product tributary >/dev/null
binary="$(swift build -c "$configuration" --show-bin-path)/tributary"
directory="$(mktemp -d)"
trap 'redis-cli -s "$directory/redis.sock" shutdown nosave >/dev/null 2>&1 || true; rm -rf "$directory"' EXIT
redis-server --port 0 --unixsocket "$directory/redis.sock" --save '' --appendonly no --daemonize yes \
    --dir "$directory" --logfile "$directory/redis.log"
for _ in $(seq 50); do redis-cli -s "$directory/redis.sock" ping >/dev/null 2>&1 && break; sleep 0.1; done
fill='local from, to = tonumber(ARGV[1]), tonumber(ARGV[2])
for i = from, to do
  local id = tostring(i)
  redis.call("HSET", "bull:big:" .. id, "name", "n", "data", "{}", "opts", "{}", "timestamp", i)
  if i % 10 == 0 then redis.call("LPUSH", "bull:big:wait", id) else redis.call("ZADD", "bull:big:completed", i, id) end
end
redis.call("SET", "bull:big:id", to)
return to'
for ((from = 1; from <= jobs; from += 100000)); do
    to=$((from + 99999 < jobs ? from + 99999 : jobs))
    redis-cli -s "$directory/redis.sock" eval "$fill" 0 "$from" "$to" >/dev/null
done
redis-cli -s "$directory/redis.sock" hset bull:big:lost name n data '{}' opts '{}' timestamp 1 >/dev/null
redis-cli -s "$directory/redis.sock" lpush bull:big:wait ghost >/dev/null
echo "doctor-scale: $jobs jobs, $(redis-cli -s "$directory/redis.sock" dbsize) keys, $configuration build"
/usr/bin/time -f "doctor-scale: %e s wall, %M KiB peak RSS" "$binary" doctor --redis "unix://$directory/redis.sock" \
    2>&1 | grep -E "^(doctor-scale|examined|job-in-no-state|missing-job-hash)" || true
