package e2e

import "net/http"

// tokenTransport adds an Admin API token to every request, as a client
// configured with one (decK --headers, go-kong) does.
type tokenTransport struct{ token string }

func (t tokenTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Kong-Admin-Token", t.token)
	return http.DefaultTransport.RoundTrip(r)
}

// withToken is the harness's Admin API transport: the default one, or one
// that sends token.
func withToken(token string) http.RoundTripper {
	if token == "" {
		return nil
	}
	return tokenTransport{token: token}
}
