package ratelimit

import (
	"context"
	"encoding/json"
	"log/slog"
	"strconv"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	rlsv3 "github.com/envoyproxy/go-control-plane/envoy/service/ratelimit/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Options configure a Service.
type Options struct {
	// Memory holds policy=cluster counters (nil: a new MemoryStore on Now).
	Memory Store
	// Redis finds policy=redis's store by plugin id (nil: policy=redis fails).
	Redis func(pluginID string) (Store, error)
	// Now is the clock (nil: time.Now).
	Now func() time.Time
	// Logger reports store failures (nil: slog.Default()).
	Logger *slog.Logger
}

// Service implements envoy.service.ratelimit.v3.RateLimitService.
type Service struct {
	rlsv3.UnimplementedRateLimitServiceServer
	opts Options
}

// New returns a Service.
func New(opts Options) *Service {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Memory == nil {
		opts.Memory = NewMemoryStore(opts.Now)
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Service{opts: opts}
}

// Register adds the service to a gRPC server.
func (s *Service) Register(g grpc.ServiceRegistrar) { rlsv3.RegisterRateLimitServiceServer(g, s) }

// ShouldRateLimit decides every descriptor (one per applied plugin instance).
// The request is over limit when any of them is; each contributes its headers.
// A store error is Unavailable and a malformed descriptor InvalidArgument, so
// Envoy's failure_mode_deny (= !fault_tolerant) decides, as Kong's
// fault_tolerant does: through without headers, or an error.
func (s *Service) ShouldRateLimit(ctx context.Context, req *rlsv3.RateLimitRequest) (*rlsv3.RateLimitResponse, error) {
	now := s.opts.Now()
	resp := &rlsv3.RateLimitResponse{
		OverallCode: rlsv3.RateLimitResponse_OK,
		Statuses:    make([]*rlsv3.RateLimitResponse_DescriptorStatus, len(req.GetDescriptors())),
	}
	var message string
	for i, desc := range req.GetDescriptors() {
		l, ours, err := ParseDescriptor(desc)
		if err != nil {
			return nil, status.Error(codes.InvalidArgument, err.Error())
		}
		st := &rlsv3.RateLimitResponse_DescriptorStatus{Code: rlsv3.RateLimitResponse_OK}
		resp.Statuses[i] = st
		if !ours {
			continue
		}
		d, err := s.decide(ctx, &l, now)
		if err != nil {
			s.opts.Logger.Warn("rate-limit counters unavailable", "policy", l.Policy, "plugin", l.Plugin, "err", err)
			return nil, status.Error(codes.Unavailable, "rate-limit counters unavailable: "+err.Error())
		}
		if !d.Allowed {
			st.Code = rlsv3.RateLimitResponse_OVER_LIMIT
			resp.OverallCode = rlsv3.RateLimitResponse_OVER_LIMIT
			if message == "" {
				message = l.ErrorMessage
				if l.ErrorCode != 0 && l.ErrorCode != 429 {
					resp.ResponseHeadersToAdd = append(resp.ResponseHeadersToAdd,
						&corev3.HeaderValue{Key: StatusHeader, Value: strconv.Itoa(l.ErrorCode)})
				}
			}
		}
		for _, h := range d.Headers {
			resp.ResponseHeadersToAdd = append(resp.ResponseHeadersToAdd, &corev3.HeaderValue{Key: h.Name, Value: h.Value})
		}
	}
	if message != "" {
		body, _ := json.Marshal(map[string]string{"message": message})
		resp.RawBody = body
	}
	return resp, nil
}

// decide takes the request from the instance's store.
func (s *Service) decide(ctx context.Context, l *Limit, now time.Time) (Decision, error) {
	st := s.opts.Memory
	if l.Policy == PolicyRedis {
		if s.opts.Redis == nil {
			return Decision{}, errNoRedis
		}
		var err error
		if st, err = s.opts.Redis(l.Plugin); err != nil {
			return Decision{}, err
		}
	}
	usage, admitted, err := st.Take(ctx, l.counters(now), l.admits)
	if err != nil {
		return Decision{}, err
	}
	return l.decide(usage, admitted, now), nil
}

type constError string

func (e constError) Error() string { return string(e) }

const errNoRedis = constError("policy=redis is not configured on this server")
