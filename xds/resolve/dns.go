package resolve

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/switchboard-gw/switchboard/translator"
)

// errNoRecords is a lookup that succeeded but found nothing of the type
// asked for, so the next record type (or search suffix) is worth trying.
var errNoRecords = errors.New("no records")

// errNXDomain is the server saying the name does not exist.
var errNXDomain = fmt.Errorf("%w: name error (NXDOMAIN)", errNoRecords)

// dnsClient asks the configured name servers, over UDP with a TCP retry for
// truncated answers (Kong does the same).
type dnsClient struct {
	servers []string // host:port
	search  []string
	ndots   int
	useConf bool // apply the search list (from resolv.conf)
	udp     *dns.Client
	tcp     *dns.Client
}

func newDNSClient(servers []string, conf *dns.ClientConfig, timeout time.Duration) *dnsClient {
	c := &dnsClient{
		udp: &dns.Client{Net: "udp", Timeout: timeout, UDPSize: dns.DefaultMsgSize},
		tcp: &dns.Client{Net: "tcp", Timeout: timeout},
	}
	switch {
	case len(servers) > 0:
		c.servers = servers
	case conf != nil:
		for _, s := range conf.Servers {
			c.servers = append(c.servers, net.JoinHostPort(s, conf.Port))
		}
		c.search, c.ndots, c.useConf = conf.Search, conf.Ndots, true
	}
	return c
}

// names is the list of fully qualified names to try for name, with the
// resolv.conf search list applied the way the C resolver does.
func (c *dnsClient) names(name string) []string {
	if !c.useConf {
		return []string{dns.Fqdn(name)}
	}
	cc := dns.ClientConfig{Search: c.search, Ndots: c.ndots}
	return cc.NameList(name)
}

// exchange sends one question to each server in turn until one answers.
// NXDOMAIN and empty answers come back as errNoRecords so that the caller
// can try the next name or record type.
func (c *dnsClient) exchange(ctx context.Context, fqdn string, qtype uint16) (*dns.Msg, error) {
	if len(c.servers) == 0 {
		return nil, errors.New("no name servers configured")
	}
	m := new(dns.Msg)
	m.SetQuestion(fqdn, qtype)
	m.RecursionDesired = true
	m.SetEdns0(dns.DefaultMsgSize, false)
	var lastErr error
	for _, server := range c.servers {
		r, _, err := c.udp.ExchangeContext(ctx, m, server)
		if err == nil && r.Truncated {
			r, _, err = c.tcp.ExchangeContext(ctx, m, server)
		}
		if err != nil {
			lastErr = err
			continue
		}
		switch r.Rcode {
		case dns.RcodeSuccess:
			return r, nil
		case dns.RcodeNameError:
			return nil, errNXDomain
		default:
			lastErr = fmt.Errorf("server failure: %s", dns.RcodeToString[r.Rcode])
		}
	}
	return nil, lastErr
}

// lookupIP resolves name to A records, or AAAA records when there are no A
// records, following the search list. It returns the record type used, the
// addresses and the smallest TTL seen. A server that cannot be reached ends
// the lookup at once: every other name and type would fail the same way.
func (c *dnsClient) lookupIP(ctx context.Context, name string) (string, []string, uint32, error) {
	lastErr := errNoRecords
	for _, fqdn := range c.names(name) {
		for _, qt := range []uint16{dns.TypeA, dns.TypeAAAA} {
			r, err := c.exchange(ctx, fqdn, qt)
			if err != nil {
				if !errors.Is(err, errNoRecords) {
					return "", nil, 0, err
				}
				lastErr = err
				if errors.Is(err, errNXDomain) {
					break // the name does not exist at all
				}
				continue
			}
			if ips, ttl := addrsOf(r, qt); len(ips) > 0 {
				return dns.TypeToString[qt], ips, ttl, nil
			}
		}
	}
	return "", nil, 0, lastErr
}

// addrsOf collects the A or AAAA records of an answer, following whatever
// CNAME chain the recursive server included.
func addrsOf(r *dns.Msg, qt uint16) ([]string, uint32) {
	var ips []string
	ttl := ^uint32(0)
	for _, rr := range r.Answer {
		var ip net.IP
		switch v := rr.(type) {
		case *dns.A:
			if qt == dns.TypeA {
				ip = v.A
			}
		case *dns.AAAA:
			if qt == dns.TypeAAAA {
				ip = v.AAAA
			}
		}
		if ip == nil {
			continue
		}
		if s := ip.String(); !slices.Contains(ips, s) {
			ips = append(ips, s)
		}
		ttl = min(ttl, rr.Header().Ttl)
	}
	return ips, ttl
}

// srvTarget is one SRV record of the best (lowest) priority.
type srvTarget struct {
	name   string
	port   uint32
	weight uint32
}

// lookupSRV returns the SRV records of the lowest priority value (Kong uses
// only those) and the smallest TTL, plus any addresses the server put in the
// additional section, keyed by target name.
func (c *dnsClient) lookupSRV(ctx context.Context, name string) ([]srvTarget, map[string][]string, uint32, error) {
	r, err := c.exchange(ctx, dns.Fqdn(name), dns.TypeSRV)
	if err != nil {
		return nil, nil, 0, err
	}
	var srvs []*dns.SRV
	ttl := ^uint32(0)
	for _, rr := range r.Answer {
		if s, ok := rr.(*dns.SRV); ok {
			srvs = append(srvs, s)
			ttl = min(ttl, s.Hdr.Ttl)
		}
	}
	if len(srvs) == 0 {
		return nil, nil, 0, errNoRecords
	}
	best := srvs[0].Priority
	for _, s := range srvs {
		best = min(best, s.Priority)
	}
	var out []srvTarget
	for _, s := range srvs {
		if s.Priority == best {
			out = append(out, srvTarget{name: normalize(s.Target), port: uint32(s.Port), weight: uint32(s.Weight)})
		}
	}
	extra := map[string][]string{}
	for _, rr := range r.Extra {
		if a, ok := rr.(*dns.A); ok {
			n := normalize(a.Hdr.Name)
			extra[n] = append(extra[n], a.A.String())
		}
	}
	return out, extra, ttl, nil
}

// isSRVName reports whether name looks like _service._proto.name.
func isSRVName(name string) bool {
	labels := strings.Split(name, ".")
	return len(labels) >= 3 && strings.HasPrefix(labels[0], "_") && len(labels[0]) > 1 &&
		strings.HasPrefix(labels[1], "_") && len(labels[1]) > 1
}

// errText renders a lookup error the way the health report shows it.
func errText(name string, err error) string {
	if errors.Is(err, errNoRecords) {
		return fmt.Sprintf("dns server error: %q: %v", name, err)
	}
	return fmt.Sprintf("dns client error: %q: %v", name, err)
}

// sortAddresses keeps answers comparable: the same records in another order
// must not count as a change.
func sortAddresses(a []translator.Address) {
	slices.SortFunc(a, func(x, y translator.Address) int {
		if c := strings.Compare(x.Name, y.Name); c != 0 {
			return c
		}
		if c := strings.Compare(x.IP, y.IP); c != 0 {
			return c
		}
		return int(x.Port) - int(y.Port)
	})
}
