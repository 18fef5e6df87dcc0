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
# Usage: walkthrough_plugins.sh <step> (see the case at the end; the e2e test runs them in order)
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

rate_limiting_scoped() {
	echo "== Rate Limiting: service, route and consumer instances"
	curl -X POST "$KONG_ADMIN/services/example_service/plugins" \
		--data "name=rate-limiting" \
		--data config.minute=5 \
		--data config.policy=local
	echo
	curl -X POST "$KONG_ADMIN/routes/example_route/plugins" \
		--data "name=rate-limiting" \
		--data config.minute=5 \
		--data config.policy=local
	echo
	curl -X POST "$KONG_ADMIN/consumers/" \
		--data username=jsmith
	echo
	curl -X POST "$KONG_ADMIN/plugins" \
		--data "name=rate-limiting" \
		--data "consumer.username=jsmith" \
		--data "config.second=5"
	echo
}

proxy_caching() {
	echo "== Proxy Caching"
	curl -i -X POST "$KONG_ADMIN/plugins" \
		--data "name=proxy-cache" \
		--data "config.request_method=GET" \
		--data "config.response_code=200" \
		--data "config.content_type=application/json" \
		--data "config.cache_ttl=30" \
		--data "config.strategy=memory"
	echo
}

# The page runs the same command twice: Miss first, then (within 30 s) Hit.
proxy_caching_validate() {
	echo "== Proxy Caching: validate"
	curl -i -s -XGET "$KONG_PROXY/mock/anything" | grep X-Cache
	curl -i -s -XGET "$KONG_PROXY/mock/anything" | grep X-Cache
}

proxy_caching_scoped() {
	echo "== Proxy Caching: service, route and consumer instances"
	curl -X POST "$KONG_ADMIN/services/example_service/plugins" \
		--data "name=proxy-cache" \
		--data "config.request_method=GET" \
		--data "config.response_code=200" \
		--data "config.content_type=application/json" \
		--data "config.cache_ttl=30" \
		--data "config.strategy=memory"
	echo
	curl -X POST "$KONG_ADMIN/routes/example_route/plugins" \
		--data "name=proxy-cache" \
		--data "config.request_method=GET" \
		--data "config.response_code=200" \
		--data "config.content_type=application/json" \
		--data "config.cache_ttl=30" \
		--data "config.strategy=memory"
	echo
	curl -X POST "$KONG_ADMIN/consumers/" \
		--data username=sasha
	echo
	curl -X POST "$KONG_ADMIN/consumers/sasha/plugins" \
		--data "name=proxy-cache" \
		--data "config.request_method=GET" \
		--data "config.response_code=200" \
		--data "config.content_type=application/json" \
		--data "config.cache_ttl=30" \
		--data "config.strategy=memory"
	echo
}

# The page looks an entry up by the X-Cache-Key it printed; the script
# takes the key from a fresh answer, as a reader copies it.
proxy_caching_entry() {
	echo "== Proxy Caching: look an entry up"
	key=$(curl -s -i "$KONG_PROXY/mock/anything" | tr -d '\r' | sed -n 's/^X-Cache-Key: //p')
	curl -i "$KONG_ADMIN/proxy-cache/$key"
	echo
}

key_auth() {
	echo "== Key Authentication"
	curl -i -X POST "$KONG_ADMIN/consumers/" \
		--data username=luka
	echo
	curl -i -X POST "$KONG_ADMIN/consumers/luka/key-auth" \
		--data key=top-secret-key
	echo
	curl -X POST "$KONG_ADMIN/plugins/" \
		--data "name=key-auth" \
		--data "config.key_names=apikey"
	echo
}

key_auth_validate() {
	echo "== Key Authentication: validate"
	curl -i "$KONG_PROXY/mock/anything"
	echo
	curl -i "$KONG_PROXY/mock/anything" \
		-H 'apikey:bad-key'
	echo
	curl -i "$KONG_PROXY/mock/anything" \
		-H 'apikey:top-secret-key'
	echo
}

key_auth_scoped() {
	echo "== Key Authentication: service and route instances"
	curl -X POST "$KONG_ADMIN/services/example_service/plugins" \
		--data name=key-auth
	echo
	curl -X POST "$KONG_ADMIN/routes/example_route/plugins" \
		--data name=key-auth
	echo
	curl -X GET "$KONG_ADMIN/plugins/"
	echo
}

# The page PATCHes one id it took from GET /plugins/ (its id is an
# illustration, not a UUID). With the global, service and route instances
# all present, disabling one lets the next most specific apply (Kong's
# precedence), so this step disables every key-auth instance, each with the
# page's command.
key_auth_disable() {
	echo "== Key Authentication: disable"
	for id in $(curl -s "$KONG_ADMIN/plugins/" | jq -r '.data[] | select(.name == "key-auth") | .id'); do
		curl -X PATCH "$KONG_ADMIN/plugins/$id" \
			--data enabled=false
		echo
	done
}

key_auth_disabled_validate() {
	echo "== Key Authentication: disabled, validate"
	curl -i "$KONG_PROXY/mock/anything"
	echo
}

case "${1:-}" in
rate-limiting) rate_limiting ;;
rate-limiting-validate) rate_limiting_validate ;;
rate-limiting-scoped) rate_limiting_scoped ;;
proxy-caching) proxy_caching ;;
proxy-caching-validate) proxy_caching_validate ;;
proxy-caching-scoped) proxy_caching_scoped ;;
proxy-caching-entry) proxy_caching_entry ;;
key-auth) key_auth ;;
key-auth-validate) key_auth_validate ;;
key-auth-scoped) key_auth_scoped ;;
key-auth-disable) key_auth_disable ;;
key-auth-disabled-validate) key_auth_disabled_validate ;;
*)
	echo "usage: $0 <step>; steps: rate-limiting rate-limiting-validate rate-limiting-scoped proxy-caching" \
		"proxy-caching-validate proxy-caching-scoped proxy-caching-entry key-auth" \
		"key-auth-validate key-auth-scoped key-auth-disable key-auth-disabled-validate" >&2
	exit 2
	;;
esac
