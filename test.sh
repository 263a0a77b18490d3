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

# --- Servers the integration tests start themselves, each as a plain process on free loopback ports with a temp dir:
# OpenLDAP slapd + ldap-utils (Tests/Response), PostgreSQL 15 (Tests/State, Tests/ClusterCore), RabbitMQ
# (Tests/Cluster, Tests/ClusterCore), rsyslog + its GnuTLS driver + openssl (Tests/Siem), tcpdump + softflowd + nfdump
# (Tests/Receivers/Flows), and the npm SCIM and OAuth/OIDC servers of Tests/peers/*. This only installs what is missing
# (quick when everything is there).
# The packages' own services must not start: while apt installs, a temporary policy-rc.d (only if there is none)
# refuses service starts, and anything that started anyway is stopped.
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo -n"; fi

apt_install() {
  local what="$*" policy="" ok=1
  echo "== install $what"
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    policy=/usr/sbin/policy-rc.d
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null && $SUDO chmod 755 "$policy"
  fi
  { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@"; } \
    > "$run_dir/apt.log" 2>&1 || ok=0
  if [ -n "$policy" ]; then $SUDO rm -f "$policy"; fi
  if [ "$ok" -eq 0 ]; then
    tail -20 "$run_dir/apt.log" >&2
    echo "test.sh: could not install $what (apt-get, see above)" >&2
    return 1
  fi
}

install_peers() {
  if ! { command -v slapd >/dev/null 2>&1 || [ -x /usr/sbin/slapd ]; } || ! command -v ldapsearch >/dev/null 2>&1; then
    # No debconf questions, no initial database: the tests write their own configuration.
    echo "slapd slapd/no_configuration boolean true" | $SUDO debconf-set-selections 2>/dev/null || true
    apt_install slapd ldap-utils || return 1
  fi
  if [ ! -x /usr/lib/postgresql/15/bin/postgres ]; then
    apt_install postgresql || return 1
    if command -v pg_lsclusters >/dev/null 2>&1; then
      pg_lsclusters -h 2>/dev/null | while read -r ver name _ status _; do
        if [ "$status" = "online" ]; then $SUDO pg_ctlcluster "$ver" "$name" stop || true; fi
      done
    fi
  fi
  if [ ! -x /usr/lib/rabbitmq/bin/rabbitmq-server ]; then
    apt_install rabbitmq-server || return 1
    if $SUDO rabbitmqctl -q status >/dev/null 2>&1; then $SUDO rabbitmqctl -q stop >/dev/null 2>&1 || true; fi
  fi
  if ! { command -v rsyslogd >/dev/null 2>&1 || [ -x /usr/sbin/rsyslogd ]; } || ! command -v openssl >/dev/null 2>&1 \
      || ! compgen -G "/usr/lib/*/rsyslog/lmnsd_gtls.so" >/dev/null; then
    apt_install rsyslog rsyslog-gnutls openssl || return 1
  fi
  # NetFlow collector tests (Tests/Receivers/Flows): tcpdump captures loopback traffic, softflowd replays it as NetFlow
  # v5/v9/IPFIX; nfdump is there to inspect exports by hand. Their packaged services (softflowd, nfcapd) stay stopped.
  if ! { command -v softflowd >/dev/null 2>&1 || [ -x /usr/sbin/softflowd ]; } \
      || ! { command -v tcpdump >/dev/null 2>&1 || [ -x /usr/bin/tcpdump ]; } || ! command -v nfdump >/dev/null 2>&1; then
    apt_install softflowd tcpdump nfdump || return 1
    local service
    for service in softflowd nfdump; do
      if [ -x "/etc/init.d/$service" ] && $SUDO "/etc/init.d/$service" status >/dev/null 2>&1; then
        $SUDO "/etc/init.d/$service" stop >/dev/null 2>&1 || true
      fi
    done
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
