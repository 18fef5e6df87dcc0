#!/usr/bin/env bash
# walkthrough.sh — Kong's "Get Started" pages (Services and Routes, then Load
# Balancing) as their curl commands, word for word. Only where they point is
# parameterised, so the same script runs against `make run`, docker-compose,
# and the e2e test's loopback stack:
#
#   KONG_ADMIN   Admin API base URL      (default http://localhost:8001)
#   KONG_PROXY   proxy base URL          (default http://localhost:8000)
#   SERVICE_URL  the service's upstream  (default http://httpbin.konghq.com)
#   TARGET_1     first target host:port  (default httpbun.com:80)
#   TARGET_2     second target host:port (default httpbin.org:80)
#   CHECKS       how many times to run the validation command (default 6)
#
# SERVICE_URL: the Services and Routes page says https://httpbin.konghq.com.
# The Load Balancing page then repoints that service at targets on port 80,
# and the service keeps protocol https, so Kong itself would speak TLS to
# port 80 there; the http form of the same URL keeps the walkthrough working.
#
# Usage: walkthrough.sh [setup|validate|all]   (default all)
set -euo pipefail

KONG_ADMIN="${KONG_ADMIN:-http://localhost:8001}"
KONG_PROXY="${KONG_PROXY:-http://localhost:8000}"
SERVICE_URL="${SERVICE_URL:-http://httpbin.konghq.com}"
TARGET_1="${TARGET_1:-httpbun.com:80}"
TARGET_2="${TARGET_2:-httpbin.org:80}"
CHECKS="${CHECKS:-6}"

setup() {
	echo "== Services and Routes"
	curl -i -s -X POST "$KONG_ADMIN/services" \
		--data name=example_service \
		--data url="$SERVICE_URL"
	echo
	curl -i -X POST "$KONG_ADMIN/services/example_service/routes" \
		--data 'paths[]=/mock' \
		--data name=example_route
	echo

	echo "== Load Balancing"
	curl -X POST "$KONG_ADMIN/upstreams" \
		--data name=example_upstream
	echo
	curl -X POST "$KONG_ADMIN/upstreams/example_upstream/targets" \
		--data target="$TARGET_1"
	echo
	curl -X POST "$KONG_ADMIN/upstreams/example_upstream/targets" \
		--data target="$TARGET_2"
	echo
	curl -X PATCH "$KONG_ADMIN/services/example_service" \
		--data host='example_upstream'
	echo
}

validate() {
	echo "== Validate"
	for _ in $(seq "$CHECKS"); do
		curl -s "$KONG_PROXY/mock/headers" |grep -i -A1 '"host"' ||
			echo '(no "host" line in that response)'
	done
}

case "${1:-all}" in
setup) setup ;;
validate) validate ;;
all)
	setup
	validate
	;;
*)
	echo "usage: $0 [setup|validate|all]" >&2
	exit 2
	;;
esac
