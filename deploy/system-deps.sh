#!/usr/bin/env bash
# Installs the Debian packages the project needs, when they are missing and we are root.
#   deploy/system-deps.sh run   -> WeasyPrint's libraries, gettext
#   deploy/system-deps.sh test  -> the same, plus Chromium (browser tests) and poppler-utils
set -euo pipefail
profile="${1:-run}"
packages=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core gettext)
if [ "$profile" = "test" ]; then
  packages+=(chromium poppler-utils)
fi
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "Paquets système manquants : ${missing[*]}" >&2
  echo "Installez-les (sudo apt-get install ${missing[*]}) puis relancez." >&2
  exit 1
fi
echo "Installation des paquets système : ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
