#!/usr/bin/env bash
# Benchmark of the teacher view over a large register: ROWS hand-ins (100000 by default) of FILES files
# each (10), inserted straight into the SQLite file of a running `cartable serve`; then the time of
# /teacher (first page), of a page far down the list, of the whole CSV export, and of a page load (GET /)
# asked for while that export runs. Prints one line per figure; these are measures, not a test.
# Usage: scripts/bench-teacher.sh [ROWS] [FILES]. CARTABLE_BIN=path times that binary instead of a
# release build. Needs sqlite3 and curl.
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-100000}
files=${2:-10}
for tool in sqlite3 curl; do
  command -v "$tool" >/dev/null || { echo "bench-teacher.sh needs $tool (apt-get install $tool)" >&2; exit 1; }
done
if [[ -z "${CARTABLE_BIN:-}" ]]; then
  cargo build --quiet --release -p cartable-cli
  CARTABLE_BIN=target/release/cartable
fi
bin=$(realpath "$CARTABLE_BIN")
work=$(mktemp -d)
server=
trap '[[ -n "$server" ]] && kill "$server" 2>/dev/null; rm -rf "$work"' EXIT

"$bin" keygen "$work/school" >/dev/null
"$bin" pack sample/physique-3e --key "$work/school.secret" --out "$work/course" --version 1 >/dev/null
token=bench-teacher-token
"$bin" serve --port 0 --no-tracker --course "$work/course" --pubkey "$work/school.pub" \
  --db "$work/work.sqlite" --teacher-token "$token" >"$work/out" 2>"$work/err" &
server=$!
for _ in $(seq 300); do grep -q '^cartable serve: ' "$work/out" && break; sleep 0.1; done
base=$(sed -n 's/^cartable serve: //p' "$work/out")
[[ -n "$base" ]] || { cat "$work/err" >&2; exit 1; }

started=$(date +%s.%N)
sqlite3 "$work/work.sqlite" >/dev/null <<SQL
PRAGMA busy_timeout = 30000;
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $rows)
INSERT INTO submissions (key, course_id, student, kind, subject, text, score, created_at, received_at)
SELECT printf('%032x', i), 'physique-3e', printf('Élève %04d', i % 3000), 'hand_in', printf('Devoir %d', i % 10),
       'U = R × I, donc I = U / R', NULL, 1764000000000 + i, 1764000000000 + i FROM n;
WITH RECURSIVE p(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM p WHERE k < $files - 1)
INSERT INTO files (submission_id, position, name, media_type, size, cid, bytes)
SELECT s.id, p.k, printf('page-%d.jpg', p.k), 'image/jpeg', 4, 'x', x'ffd8ffe0' FROM submissions AS s, p;
COMMIT;
SQL
printf 'register: %d submissions of %d files inserted in %.1f s, %s on disk\n' "$rows" "$files" \
  "$(echo "$(date +%s.%N) - $started" | bc)" "$(du -h "$work/work.sqlite" | cut -f1)"

# Prints "NAME: STATUS in SECONDS s, BYTES bytes" for a GET of PATH with the teacher's token.
timed() {
  curl -sS -o /dev/null -H "Authorization: Bearer $token" \
    -w "$1: %{http_code} in %{time_total} s, %{size_download} bytes\n" "$base$2"
}
timed "/teacher (page 1)" teacher
timed "/teacher/page/$((rows / 100 / 2)) (half-way)" "teacher/page/$((rows / 100 / 2))"
timed "/teacher/submissions.csv (every row)" teacher/submissions.csv

timed "CSV export, while a page loads" teacher/submissions.csv >"$work/export" &
export=$!
sleep 0.2
curl -sS -o /dev/null -w 'GET / during the CSV export: %{http_code} in %{time_total} s\n' "$base"
wait "$export"
cat "$work/export"
