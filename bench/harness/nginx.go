package harness

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"text/template"
	"time"
)

// nginxTemplate is nginx as Kong runs it in front of an upstream: worker
// per core, HTTP/1.1 keep-alive pool to the backend (Kong's
// upstream_keepalive_pool_size is 512; 128 covers our 64 connections), no
// access log (Envoy has none either).
var nginxTemplate = template.Must(template.New("nginx").Parse(`
daemon off;
master_process on;
worker_processes auto;
pid {{ .Dir }}/nginx.pid;
error_log {{ .Dir }}/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path {{ .Dir }}/client_body;
  proxy_temp_path {{ .Dir }}/proxy;
  fastcgi_temp_path {{ .Dir }}/fastcgi;
  uwsgi_temp_path {{ .Dir }}/uwsgi;
  scgi_temp_path {{ .Dir }}/scgi;
  keepalive_requests 1000000;
  keepalive_timeout 60s;
  upstream backend {
    server {{ .Backend }};
    keepalive 128;
    keepalive_requests 1000000;
  }
  server {
    listen {{ .Listen }} reuseport;
    location {{ .Prefix }} {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_buffering on;
    }
  }
}
`))

// Nginx is an nginx reverse proxy.
type Nginx struct {
	Proc      *Proc
	ProxyAddr string
}

// StartNginx runs nginx in the foreground with a config under dir.
func StartNginx(bins Bins, dir, prefix, backend string) (*Nginx, error) {
	if bins.Nginx == "" {
		return nil, fmt.Errorf("nginx: no binary (install nginx-light)")
	}
	var last error
	for attempt := 1; attempt <= 3; attempt++ {
		listen, err := FreePort()
		if err != nil {
			return nil, err
		}
		ndir := filepath.Join(dir, fmt.Sprintf("nginx-%d", attempt))
		if err := os.MkdirAll(ndir, 0o777); err != nil {
			return nil, err
		}
		// Workers run as an unprivileged user when we are root.
		_ = os.Chmod(ndir, 0o777)
		var b strings.Builder
		if err := nginxTemplate.Execute(&b, map[string]string{
			"Dir": ndir, "Listen": listen, "Backend": backend, "Prefix": prefix,
		}); err != nil {
			return nil, err
		}
		conf := filepath.Join(ndir, "nginx.conf")
		if err := os.WriteFile(conf, []byte(b.String()), 0o644); err != nil {
			return nil, err
		}
		p, err := StartProc(ndir, "nginx", bins.Nginx, "-p", ndir, "-c", conf, "-e", filepath.Join(ndir, "nginx-error.log"))
		if err != nil {
			return nil, err
		}
		n := &Nginx{Proc: p, ProxyAddr: listen}
		if last = n.wait(prefix); last == nil {
			return n, nil
		}
		errLog, _ := os.ReadFile(filepath.Join(ndir, "nginx-error.log"))
		p.Stop(5 * time.Second)
		if !strings.Contains(string(errLog)+p.Tail(20), "in use") {
			last = fmt.Errorf("%w\n%s%s", last, errLog, p.Tail(20))
			break
		}
	}
	return nil, fmt.Errorf("nginx: %w", last)
}

func (n *Nginx) wait(prefix string) error {
	c := &http.Client{Timeout: 2 * time.Second}
	defer c.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return Poll(ctx, 20*time.Millisecond, func() (bool, error) {
		if n.Proc.Exited() {
			return false, fmt.Errorf("nginx: %w (%v)", ErrExited, n.Proc.ExitErr())
		}
		if _, err := net.DialTimeout("tcp", n.ProxyAddr, time.Second); err != nil {
			return false, nil
		}
		resp, err := c.Get("http://" + n.ProxyAddr + prefix)
		if err != nil {
			return false, nil
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	})
}
