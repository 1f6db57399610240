#!/usr/bin/env bash
# Installs the Debian packages named as arguments that are not installed yet, then stops the services that
# installing them starts: the tests and benchmarks run their own instances, on their own ports and sockets.
set -euo pipefail

missing=()
for package in "$@"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo_cmd=""
[ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
echo "Installing: ${missing[*]}"
$sudo_cmd apt-get update -q >/dev/null
# Another apt run (a parallel session, unattended upgrades) may hold the lock for a while: wait for it.
DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "${missing[@]}" >/dev/null
for service in nginx lighttpd apache2 fcgiwrap php8.2-fpm; do
  $sudo_cmd service "$service" stop >/dev/null 2>&1 || true
done
