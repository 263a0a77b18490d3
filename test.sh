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

# --- Response connector peers (Tests/Response): OpenLDAP slapd + ldap-utils from Debian, and the npm SCIM and
# OAuth/OIDC servers of Tests/peers/*. The tests start their own servers on free loopback ports; this only installs.
# Idempotent: quick when everything is there.
install_peers() {
  if ! command -v slapd >/dev/null 2>&1 && [ ! -x /usr/sbin/slapd ] || ! command -v ldapsearch >/dev/null 2>&1; then
    echo "== install slapd ldap-utils"
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo -n"; fi
    # No debconf questions, no initial database: the tests write their own configuration.
    echo "slapd slapd/no_configuration boolean true" | $sudo debconf-set-selections 2>/dev/null || true
    if ! { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends slapd ldap-utils; } \
        > "$run_dir/apt.log" 2>&1; then
      tail -20 "$run_dir/apt.log" >&2
      echo "test.sh: could not install slapd and ldap-utils (apt-get, see above)" >&2
      return 1
    fi
  fi
  # PostgreSQL 15 server binaries for the state-store tests (Tests/State/Postgres*). The tests run their own server as
  # a plain process on a free loopback port with a temp data dir; the system service is not used, so a cluster the
  # package starts (Debian creates "15 main" on 5432) is stopped again.
  if [ ! -x /usr/lib/postgresql/15/bin/postgres ]; then
    echo "== install postgresql"
    local sudo_pg=""
    if [ "$(id -u)" -ne 0 ]; then sudo_pg="sudo -n"; fi
    if ! { $sudo_pg apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo_pg apt-get install -y -qq --no-install-recommends postgresql; } \
        > "$run_dir/apt-pg.log" 2>&1; then
      tail -20 "$run_dir/apt-pg.log" >&2
      echo "test.sh: could not install postgresql (apt-get, see above)" >&2
      return 1
    fi
    if command -v pg_lsclusters >/dev/null 2>&1; then
      pg_lsclusters -h 2>/dev/null | while read -r ver name _ status _; do
        if [ "$status" = "online" ]; then $sudo_pg pg_ctlcluster "$ver" "$name" stop || true; fi
      done
    fi
  fi
  # RabbitMQ (Debian's rabbitmq-server, 3.10 on bookworm) for the partition-bus tests (Tests/Cluster). The tests run
  # their own node as a plain process (own node name, free loopback ports, temp dir), so a node the package starts
  # under its service is stopped again.
  if [ ! -x /usr/lib/rabbitmq/bin/rabbitmq-server ]; then
    echo "== install rabbitmq-server"
    local sudo_mq=""
    if [ "$(id -u)" -ne 0 ]; then sudo_mq="sudo -n"; fi
    if ! { $sudo_mq apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo_mq apt-get install -y -qq --no-install-recommends rabbitmq-server; } \
        > "$run_dir/apt-mq.log" 2>&1; then
      tail -20 "$run_dir/apt-mq.log" >&2
      echo "test.sh: could not install rabbitmq-server (apt-get, see above)" >&2
      return 1
    fi
    if $sudo_mq rabbitmqctl -q status >/dev/null 2>&1; then $sudo_mq rabbitmqctl -q stop >/dev/null 2>&1 || true; fi
  fi
  # rsyslog with its GnuTLS driver, and openssl, for the SIEM syslog sink tests (Tests/Siem). The tests run their own
  # rsyslogd as a plain process (temp dir, free loopback ports, certificates made per run); the system's rsyslog
  # service must not start, so while apt installs, a temporary policy-rc.d (only if there is none) refuses starts.
  if ! { command -v rsyslogd >/dev/null 2>&1 || [ -x /usr/sbin/rsyslogd ]; } || ! command -v openssl >/dev/null 2>&1 \
      || ! compgen -G "/usr/lib/*/rsyslog/lmnsd_gtls.so" >/dev/null; then
    echo "== install rsyslog rsyslog-gnutls openssl"
    local sudo_rs="" policy=""
    if [ "$(id -u)" -ne 0 ]; then sudo_rs="sudo -n"; fi
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      policy=/usr/sbin/policy-rc.d
      printf '#!/bin/sh\nexit 101\n' | $sudo_rs tee "$policy" >/dev/null && $sudo_rs chmod 755 "$policy"
    fi
    local rs_ok=1
    { $sudo_rs apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo_rs apt-get install -y -qq --no-install-recommends \
        rsyslog rsyslog-gnutls openssl; } > "$run_dir/apt-rsyslog.log" 2>&1 || rs_ok=0
    if [ -n "$policy" ]; then $sudo_rs rm -f "$policy"; fi
    if [ "$rs_ok" -eq 0 ]; then
      tail -20 "$run_dir/apt-rsyslog.log" >&2
      echo "test.sh: could not install rsyslog, rsyslog-gnutls and openssl (apt-get, see above)" >&2
      return 1
    fi
  fi
  local peer
  for peer in Tests/peers/scim Tests/peers/oidc; do
    if [ ! -d "$peer/node_modules" ] || [ "$peer/package-lock.json" -nt "$peer/node_modules/.package-lock.json" ]; then
      echo "== npm ci $peer"
      if ! command -v npm >/dev/null 2>&1; then
        echo "test.sh: npm is required for the test peers in $peer (Node.js 20 or later)" >&2
        return 1
      fi
      if ! (cd "$peer" && npm ci --no-audit --no-fund --loglevel=error) > "$run_dir/npm.log" 2>&1; then
        tail -20 "$run_dir/npm.log" >&2
        echo "test.sh: npm ci failed in $peer (see above)" >&2
        return 1
      fi
    fi
  done
}
if ! install_peers; then
  echo "0 passed, 1 failed"
  exit 1
fi
# --- end of response connector peers

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
