#!/usr/bin/env bash
# Builds everything (warnings are errors), starts the servers the tests need on 127.0.0.1,
# runs every test project, and ends with one line: "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")"

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

if ! command -v dotnet >/dev/null 2>&1; then
  echo "test.sh: the .NET 10 SDK is required (dotnet not on PATH)" >&2
  echo "0 passed, 1 failed"
  exit 1
fi

run_dir="$(mktemp -d -t anomalyzt-test.XXXXXX)"
cleanup() { rm -rf "$run_dir"; }
trap cleanup EXIT

# Servers: none are needed by the embedded engine's tests yet. Later suites (RabbitMQ, PostgreSQL,
# slapd, rsyslog, npm peers) install and start here, each on a free loopback port with a temp dir.

echo "== build"
if ! dotnet build AnomalyZT.sln -c Release -warnaserror -nologo -v quiet > "$run_dir/build.log" 2>&1; then
  grep -E "error|warning" "$run_dir/build.log" | sort -u | head -50
  echo "build failed"
  echo "0 passed, 1 failed"
  exit 1
fi
grep -E "Warning\(s\)|Error\(s\)" "$run_dir/build.log" | tail -2

passed=0
failed=0
status=0
for project in Tests/Tests.csproj; do
  name="$(basename "$project" .csproj)"
  echo "== test $name"
  dotnet test "$project" -c Release --no-build --nologo \
    --logger "trx;LogFileName=$run_dir/$name.trx" --logger "console;verbosity=minimal" || status=1
  trx="$run_dir/$name.trx"
  if [ -f "$trx" ]; then
    p=$(grep -o '<Counters [^>]*' "$trx" | grep -o ' passed="[0-9]*"' | grep -o '[0-9]*')
    f=$(grep -o '<Counters [^>]*' "$trx" | grep -o ' failed="[0-9]*"' | grep -o '[0-9]*')
    passed=$((passed + ${p:-0}))
    failed=$((failed + ${f:-0}))
  else
    echo "no results from $name"
    failed=$((failed + 1))
  fi
done

if [ "$failed" -gt 0 ]; then status=1; fi
echo "$passed passed, $failed failed"
exit $status
