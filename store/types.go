package store

// ForeignKey is Kong's rendering of a reference to another entity:
// {"id": "<uuid>"}. On input the admin API resolves names to ids before a
// mutation reaches the store, so the store only ever sees ids.
type ForeignKey struct {
	ID string `json:"id"`
}

// Service is a Kong service. JSON tags are Kong's field names; pointer and
// slice fields are nullable so that an unset field renders as null, as Kong
// renders it. Objects read from the store are shared: copy before changing.
type Service struct {
	ID                string      `json:"id"`
	CreatedAt         int64       `json:"created_at"`
	UpdatedAt         int64       `json:"updated_at"`
	Name              *string     `json:"name"`
	Retries           int64       `json:"retries"`
	Protocol          string      `json:"protocol"`
	Host              string      `json:"host"`
	Port              int64       `json:"port"`
	Path              *string     `json:"path"`
	ConnectTimeout    int64       `json:"connect_timeout"`
	WriteTimeout      int64       `json:"write_timeout"`
	ReadTimeout       int64       `json:"read_timeout"`
	Tags              []string    `json:"tags"`
	ClientCertificate *ForeignKey `json:"client_certificate"`
	TLSVerify         *bool       `json:"tls_verify"`
	TLSVerifyDepth    *int64      `json:"tls_verify_depth"`
	CACertificates    []string    `json:"ca_certificates"`
	Enabled           bool        `json:"enabled"`

	// CreateIndex and ModifyIndex are the store revisions that created and
	// last changed the entity (Nomad's convention); never shown to Kong users.
	CreateIndex uint64 `json:"-"`
	ModifyIndex uint64 `json:"-"`
}

// CIDRPort is one element of a route's sources/destinations set (stream
// routes only).
type CIDRPort struct {
	IP   *string `json:"ip,omitempty"`
	Port *int64  `json:"port,omitempty"`
}

// Route is a Kong route.
type Route struct {
	ID                      string              `json:"id"`
	CreatedAt               int64               `json:"created_at"`
	UpdatedAt               int64               `json:"updated_at"`
	Name                    *string             `json:"name"`
	Protocols               []string            `json:"protocols"`
	Methods                 []string            `json:"methods"`
	Hosts                   []string            `json:"hosts"`
	Paths                   []string            `json:"paths"`
	Headers                 map[string][]string `json:"headers"`
	SNIs                    []string            `json:"snis"`
	Sources                 []CIDRPort          `json:"sources"`
	Destinations            []CIDRPort          `json:"destinations"`
	StripPath               bool                `json:"strip_path"`
	PreserveHost            bool                `json:"preserve_host"`
	RegexPriority           int64               `json:"regex_priority"`
	PathHandling            string              `json:"path_handling"`
	HTTPSRedirectStatusCode int64               `json:"https_redirect_status_code"`
	RequestBuffering        bool                `json:"request_buffering"`
	ResponseBuffering       bool                `json:"response_buffering"`
	Service                 *ForeignKey         `json:"service"`
	Tags                    []string            `json:"tags"`

	CreateIndex uint64 `json:"-"`
	ModifyIndex uint64 `json:"-"`
}

// Upstream is a Kong upstream: a named virtual host balanced over targets.
type Upstream struct {
	ID                     string       `json:"id"`
	CreatedAt              int64        `json:"created_at"`
	UpdatedAt              int64        `json:"updated_at"`
	Name                   string       `json:"name"`
	Algorithm              string       `json:"algorithm"`
	HashOn                 string       `json:"hash_on"`
	HashFallback           string       `json:"hash_fallback"`
	HashOnHeader           *string      `json:"hash_on_header"`
	HashFallbackHeader     *string      `json:"hash_fallback_header"`
	HashOnCookie           *string      `json:"hash_on_cookie"`
	HashOnCookiePath       string       `json:"hash_on_cookie_path"`
	HashOnQueryArg         *string      `json:"hash_on_query_arg"`
	HashFallbackQueryArg   *string      `json:"hash_fallback_query_arg"`
	HashOnURICapture       *string      `json:"hash_on_uri_capture"`
	HashFallbackURICapture *string      `json:"hash_fallback_uri_capture"`
	Slots                  int64        `json:"slots"`
	Healthchecks           Healthchecks `json:"healthchecks"`
	Tags                   []string     `json:"tags"`
	HostHeader             *string      `json:"host_header"`
	ClientCertificate      *ForeignKey  `json:"client_certificate"`
	UseSRVName             bool         `json:"use_srv_name"`

	CreateIndex uint64 `json:"-"`
	ModifyIndex uint64 `json:"-"`
}

// Healthchecks is the upstream's healthchecks record (Kong defaults in
// DefaultHealthchecks).
type Healthchecks struct {
	Active    ActiveHealthcheck  `json:"active"`
	Passive   PassiveHealthcheck `json:"passive"`
	Threshold float64            `json:"threshold"`
}

// ActiveHealthcheck configures periodic probes.
type ActiveHealthcheck struct {
	Type                   string              `json:"type"`
	Timeout                float64             `json:"timeout"`
	Concurrency            int64               `json:"concurrency"`
	HTTPPath               string              `json:"http_path"`
	HTTPSSNI               *string             `json:"https_sni"`
	HTTPSVerifyCertificate bool                `json:"https_verify_certificate"`
	Headers                map[string][]string `json:"headers"`
	Healthy                ActiveHealthy       `json:"healthy"`
	Unhealthy              ActiveUnhealthy     `json:"unhealthy"`
}

// ActiveHealthy holds the thresholds that mark an address healthy.
type ActiveHealthy struct {
	Interval     float64 `json:"interval"`
	HTTPStatuses []int64 `json:"http_statuses"`
	Successes    int64   `json:"successes"`
}

// ActiveUnhealthy holds the thresholds that mark an address unhealthy.
type ActiveUnhealthy struct {
	Interval     float64 `json:"interval"`
	HTTPStatuses []int64 `json:"http_statuses"`
	TCPFailures  int64   `json:"tcp_failures"`
	Timeouts     int64   `json:"timeouts"`
	HTTPFailures int64   `json:"http_failures"`
}

// PassiveHealthcheck is Kong's "circuit breaker" on proxied traffic.
type PassiveHealthcheck struct {
	Type      string           `json:"type"`
	Healthy   PassiveHealthy   `json:"healthy"`
	Unhealthy PassiveUnhealthy `json:"unhealthy"`
}

// PassiveHealthy counts successes seen on proxied traffic.
type PassiveHealthy struct {
	HTTPStatuses []int64 `json:"http_statuses"`
	Successes    int64   `json:"successes"`
}

// PassiveUnhealthy counts failures seen on proxied traffic.
type PassiveUnhealthy struct {
	HTTPStatuses []int64 `json:"http_statuses"`
	TCPFailures  int64   `json:"tcp_failures"`
	Timeouts     int64   `json:"timeouts"`
	HTTPFailures int64   `json:"http_failures"`
}

// InUse reports whether Kong would create a health checker for these
// settings: an active interval or a passive unhealthy counter is non-zero.
func (h Healthchecks) InUse() bool {
	a, p := h.Active, h.Passive.Unhealthy
	return a.Healthy.Interval != 0 || a.Unhealthy.Interval != 0 ||
		p.TCPFailures != 0 || p.Timeouts != 0 || p.HTTPFailures != 0
}

// Target is one backend of an upstream. Kong renders target timestamps as
// float seconds with a millisecond fraction, unlike the other entities.
type Target struct {
	ID        string     `json:"id"`
	CreatedAt float64    `json:"created_at"`
	UpdatedAt float64    `json:"updated_at"`
	Upstream  ForeignKey `json:"upstream"`
	Target    string     `json:"target"`
	Weight    int64      `json:"weight"`
	Tags      []string   `json:"tags"`

	CreateIndex uint64 `json:"-"`
	ModifyIndex uint64 `json:"-"`
}

// TargetHealth is a manual health override set through
// PUT /upstreams/{u}/targets/{t}[/{address}]/healthy|unhealthy. Address is
// "" for the whole target, or "ip:port" for one resolved address. Kong keeps
// this state in the balancer; we keep it in the store so that it replicates
// and reaches Envoy as EDS health_status.
type TargetHealth struct {
	TargetID   string `json:"target_id"`
	UpstreamID string `json:"upstream_id"`
	Address    string `json:"address"`
	Healthy    bool   `json:"healthy"`

	ModifyIndex uint64 `json:"-"`
}

// Key is the primary key of a TargetHealth row.
func (h *TargetHealth) Key() string { return h.TargetID + "|" + h.Address }
