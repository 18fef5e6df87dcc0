//go:build !linux

package envoy

import "syscall"

// childProcAttr: only Linux has a parent-death signal; elsewhere an Envoy
// outlives a supervisor that is killed without a chance to stop it.
func childProcAttr() *syscall.SysProcAttr { return nil }
