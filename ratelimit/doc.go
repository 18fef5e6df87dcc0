// Package ratelimit serves Envoy's rate-limit service
// (envoy.service.ratelimit.v3.RateLimitService) with Kong 3.9's rate-limiting
// semantics, for the plugin's policy=cluster and policy=redis
// (docs/kong-contract.md; Kong's kong/plugins/rate-limiting/handler.lua):
// fixed calendar windows in UTC, every configured window checked at once, a
// request rejected when any window has nothing left, rejected requests counting
// nothing, and Kong's headers returned through response_headers_to_add.
//
// # Descriptor format
//
// Envoy's ratelimit filter sends one descriptor per applied plugin instance.
// Its entries carry everything the decision needs, so the service keeps no
// configuration of its own; the translator emits them from the plugin's config
// with generic_key actions (literal values) and one identifier action. Entry
// order does not matter; unknown keys are ignored.
//
//	kong_second … kong_year  the window's limit, a decimal number > 0 (at least one;
//	                         fractions are rounded up, as Kong's "remaining > 0" test does)
//	kong_route               the plugin instance's route id (absent: unscoped)
//	kong_service             the plugin instance's service id (absent: unscoped)
//	kong_policy              "cluster" (default) or "redis"
//	kong_plugin              the plugin id; policy=redis finds its redis.* settings by it
//	kong_hide_client_headers "true": no headers on allowed nor rejected responses
//	kong_error_message       the rejection's message (default "API rate limit exceeded")
//	kong_error_code          the rejection's status when not 429 (400-599): sent back in
//	                         the x-sb-rl-status response header (StatusHeader)
//	kong_identifier          the identifier (consumer/credential id, header value, path,
//	                         service id); remote_address (Envoy's remote_address action)
//	                         is the IP fallback and is used when kong_identifier is absent
//
// A descriptor without any kong_<window> entry is not ours: it is answered OK
// and counts nothing. Counter keys are Kong's:
// ratelimit:<route id>:<service id>:<identifier>:<window start ms>:<window>,
// with the all-zero UUID for an absent route or service, so a global instance
// shares one counter per identifier across routes, as in Kong.
//
// # Stores and clusters
//
// policy=cluster keeps counters in this process's memory (MemoryStore): every
// Envoy connected to the process shares them. In a multi-node raft cluster each
// switchboard node serves its own Envoys from its own memory, so counters are
// per node, not cluster-wide (Kong's cluster policy shares them through the
// database); use policy=redis with one Redis for a limit shared by every node.
// policy=redis keeps them in Redis (RedisStore): INCR and EXPIRE per window key
// in one MULTI transaction. As in Kong, usage is read before the increment, so
// concurrent requests racing on the last unit may both pass.
//
// A store error answers the gRPC call with Unavailable: Envoy's
// failure_mode_deny (= !fault_tolerant) then decides, which is Kong's
// fault_tolerant (let through without headers, or fail the request).
package ratelimit
