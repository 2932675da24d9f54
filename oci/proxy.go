package oci

import (
	"net/http"
	"net/url"
	"os"
)

// ProxyFromEnvironment picks the proxy like http.ProxyFromEnvironment (HTTP_PROXY, HTTPS_PROXY,
// NO_PROXY) and adds upstream wash's proxy credentials, WASH_PROXY_USERNAME and
// WASH_PROXY_PASSWORD (both set), when the proxy URL carries none (upstream
// crates/wash/src/lib/start/github/mod.rs:180-203).
func ProxyFromEnvironment(req *http.Request) (*url.URL, error) {
	u, err := http.ProxyFromEnvironment(req)
	if err != nil || u == nil || u.User != nil {
		return u, err
	}
	if user, pass := os.Getenv("WASH_PROXY_USERNAME"), os.Getenv("WASH_PROXY_PASSWORD"); user != "" && pass != "" {
		c := *u
		c.User = url.UserPassword(user, pass)
		return &c, nil
	}
	return u, nil
}

// HTTPClient is a plain HTTP client that goes through the proxy the environment names.
func HTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = ProxyFromEnvironment
	return &http.Client{Transport: t}
}
