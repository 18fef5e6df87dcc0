package envoy

import "syscall"

// childProcAttr makes the kernel SIGKILL Envoy when its supervisor dies, so
// a killed control plane leaves no orphan holding the proxy and admin ports.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
