package main

import (
	"testing"

	"github.com/switchboard-gw/switchboard/admin"
	"github.com/switchboard-gw/switchboard/xds/envoyhealth"
)

// envoyhealth's words are the Admin API's: adminHealth passes them as is.
func TestHealthWordsAgree(t *testing.T) {
	if envoyhealth.HealthHealthy != admin.HealthHealthy || envoyhealth.HealthUnhealthy != admin.HealthUnhealthy {
		t.Fatalf("envoyhealth %q/%q, admin %q/%q", envoyhealth.HealthHealthy, envoyhealth.HealthUnhealthy, admin.HealthHealthy, admin.HealthUnhealthy)
	}
}
