package fakes

import (
	"fmt"
	"net/http"
	"strings"
)

// EchoPrometheus answers as a Prometheus behind a proxy that echoes the
// request's Authorization header: every query fails with an error envelope
// whose message holds the header after 150 characters (where a message cut
// at 200 characters cuts the secret in two), written as PHP's json_encode
// writes it ("/" as "\/"). The build information answers the same error,
// or, when version > 0, succeeds with a version of about that many
// characters holding the header.
func EchoPrometheus(version int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		echo := strings.ReplaceAll(r.Header.Get("Authorization"), "/", `\/`)
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/api/v1/status/buildinfo" && version > 0 {
			fmt.Fprintf(w, `{"status":"success","data":{"version":"3.5.0-%s-%s","revision":"echo","branch":"HEAD","goVersion":"go1.26"}}`, echo, strings.Repeat("x", version))
			return
		}
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"status":"error","errorType":"bad_data","error":"%s: request had Authorization: %s"}`, strings.Repeat("proxy said no ", 11)[:150], echo)
	}
}
