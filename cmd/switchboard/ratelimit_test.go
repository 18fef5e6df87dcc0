package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"testing"

	rlcommonv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/common/ratelimit/v3"
	rlsv3 "github.com/envoyproxy/go-control-plane/envoy/service/ratelimit/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/switchboard-gw/switchboard/ratelimit"
	"github.com/switchboard-gw/switchboard/store"
	"github.com/switchboard-gw/switchboard/translator"
)

func TestRateLimitListenFlag(t *testing.T) {
	c, _, err := parseServeFlags(nil)
	if err != nil || c.RateLimitListen != "127.0.0.1:18001" || c.RateLimitExplicit {
		t.Fatalf("default: %+v, %v", c, err)
	}
	if c, _, err = parseServeFlags([]string{"--ratelimit-listen", "off"}); err != nil || c.RateLimitListen != "" {
		t.Fatalf("off: %+v, %v", c, err)
	}
	if _, _, err = parseServeFlags([]string{"--ratelimit-listen", "nope"}); err == nil {
		t.Fatal("a bad address was accepted")
	}
}

// The wired service answers Envoy's gRPC call; policy=redis for a plugin the
// store does not hold is Unavailable (Envoy's failure_mode_deny decides).
func TestStartRateLimit(t *testing.T) {
	st, err := store.New()
	if err != nil {
		t.Fatal(err)
	}
	cfg := &serveConfig{RateLimitListen: "127.0.0.1:0", RateLimitExplicit: true}
	addr, stop, err := startRateLimit(cfg, st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := rlsv3.NewRateLimitServiceClient(conn)
	entry := func(k, v string) *rlcommonv3.RateLimitDescriptor_Entry {
		return &rlcommonv3.RateLimitDescriptor_Entry{Key: k, Value: v}
	}
	req := &rlsv3.RateLimitRequest{Domain: "switchboard", Descriptors: []*rlcommonv3.RateLimitDescriptor{{
		Entries: []*rlcommonv3.RateLimitDescriptor_Entry{entry("kong_minute", "1"), entry("remote_address", "127.0.0.1")},
	}}}
	codesSeen := []rlsv3.RateLimitResponse_Code{}
	for range 2 {
		resp, err := client.ShouldRateLimit(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		codesSeen = append(codesSeen, resp.GetOverallCode())
	}
	if codesSeen[0] != rlsv3.RateLimitResponse_OK || codesSeen[1] != rlsv3.RateLimitResponse_OVER_LIMIT {
		t.Fatalf("codes %v", codesSeen)
	}
	req.Descriptors[0].Entries = append(req.Descriptors[0].Entries, entry("kong_policy", "redis"), entry("kong_plugin", "missing"))
	_, err = client.ShouldRateLimit(context.Background(), req)
	if status.Code(err) != codes.Unavailable {
		t.Fatalf("redis, unknown plugin: %v", err)
	}
}

// The translator's status stage reads the header the service writes.
func TestRateLimitStatusHeaderAgrees(t *testing.T) {
	if translator.RateLimitStatusHeader != ratelimit.StatusHeader {
		t.Fatalf("translator reads %q, ratelimit writes %q", translator.RateLimitStatusHeader, ratelimit.StatusHeader)
	}
}

func TestDialable(t *testing.T) {
	for in, want := range map[string]string{"0.0.0.0:18001": "127.0.0.1:18001", "127.0.0.5:7": "127.0.0.5:7", "[::]:9": "[::1]:9"} {
		a, err := net.ResolveTCPAddr("tcp", in)
		if err != nil {
			t.Fatal(err)
		}
		if got := dialable(a); got != want {
			t.Errorf("dialable(%s) = %s, want %s", in, got, want)
		}
	}
}

// Every node sends the rate-limit service's cluster, up or not: a node
// whose --ratelimit-listen is off or taken must not send a different CDS.
func TestTranslatorOptions_AlwaysRateLimitCluster(t *testing.T) {
	for _, listen := range []string{"127.0.0.1:18001", ""} {
		o, err := translatorOptions(&serveConfig{ProxyListen: "0.0.0.0:8000", RateLimitListen: listen})
		if err != nil || !o.RateLimitCluster {
			t.Fatalf("--ratelimit-listen %q: %+v, %v", listen, o, err)
		}
	}
}
