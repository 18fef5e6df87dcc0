// Package manager is switchboard Manager, the web UI served on
// --manager-listen (Kong Manager's port, 8002): static files embedded in
// the binary, and the Admin API under /api/ in the same process, behind the
// same authentication.
//
// The UI is plain JavaScript modules over a vendored Preact + htm bundle
// (assets/vendor, with its licences): no build step, no CDN, no network at
// run time. Every page reads the Admin API only, so the UI shows nothing a
// curl user could not see.
//
// manager imports nothing of ours: the Admin API arrives as an
// http.Handler.
package manager
