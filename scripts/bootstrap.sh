#!/usr/bin/env bash
# Idempotent set-up of everything the project needs, so a new user never has to think about it.
#   scripts/bootstrap.sh [train|test]
# - apt packages: libhidapi-hidraw0 (spacemouse), plus chromium (browser tests) and libeigen3-dev
#   (controllers/rlif_impedance_controller's C++ tests) for `test`.
#   Installed when run as root; otherwise the exact apt-get line is printed and we go on.
# - .venv: (re)built when missing or when requirements.txt / pyproject.toml / this script change
#   (keyed on their hash in .venv/.rlif-stamp). Uses uv when present, else pip.
#   --find-links /opt/wheels is passed only where that folder exists (CPU torch build).
# Fast (well under a second) when nothing changed.
set -euo pipefail
purpose=${1:-train}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv="$root/.venv"

apt_pkgs=(libhidapi-hidraw0)
[ "$purpose" = test ] && apt_pkgs+=(chromium libeigen3-dev)  # browser tests; the controller law's C++ tests
missing=()
for p in "${apt_pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    log=$(mktemp /tmp/rlif-apt.XXXXXX.log)
    echo "[bootstrap] apt-get install -y ${missing[*]}  (log: $log)" >&2
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
      tail -n 20 "$log" >&2
      echo "[bootstrap] apt-get failed; see $log" >&2
      exit 1
    fi
  else
    echo "[bootstrap] missing system packages; run: sudo apt-get install -y ${missing[*]}" >&2
  fi
fi

py=""
for cand in python3.11 python3 python; do
  if command -v "$cand" >/dev/null && "$cand" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
    py=$cand; break
  fi
done
[ -n "$py" ] || { echo "[bootstrap] Python 3.11 is required (the ROS 2 wheels are built for it); install python3.11" >&2; exit 1; }

want=$(cat "$root/requirements.txt" "$root/pyproject.toml" "$root/scripts/bootstrap.sh" | sha256sum | cut -c1-16)
stamp="$venv/.rlif-stamp"
if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  exit 0
fi
echo "[bootstrap] setting up $venv (requirements changed or first run)" >&2
[ -x "$venv/bin/python" ] || "$py" -m venv "$venv"
links=()
[ -d /opt/wheels ] && links=(--find-links /opt/wheels)
if command -v uv >/dev/null; then
  uv pip install --python "$venv/bin/python" "${links[@]}" -r "$root/requirements.txt" >&2
  uv pip install --python "$venv/bin/python" --no-deps -e "$root" >&2
else
  # (grep drops the noise of pip.conf index folders that do not exist on some machines)
  "$venv/bin/python" -m pip install -q --disable-pip-version-check "${links[@]}" -r "$root/requirements.txt" \
    2> >(grep -v "is ignored: it is neither a file nor a directory" >&2) >&2
  "$venv/bin/python" -m pip install -q --disable-pip-version-check --no-deps -e "$root" \
    2> >(grep -v "is ignored: it is neither a file nor a directory" >&2) >&2
fi
echo "$want" > "$stamp"
echo "[bootstrap] done" >&2
