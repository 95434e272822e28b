package fakes

import (
	"fmt"
	"net/http"
	"strconv"
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

// FlipPrometheus answers as a Prometheus (or a proxy in front of one) whose
// version label flips: a range query gets two series, version 0.0.1 and
// 0.0.2, whose n samples alternate evenly inside [start, end] whatever the
// step (as no real Prometheus would; a broken or hostile one may), an
// instant query 0.0.2, the build information 3.5.0.
func FlipPrometheus(n int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		q := r.URL.Query()
		switch r.URL.Path {
		case "/api/v1/status/buildinfo":
			fmt.Fprint(w, `{"status":"success","data":{"version":"3.5.0"}}`)
		case "/api/v1/query":
			fmt.Fprintf(w, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"version":"0.0.2"},"value":[%s,"1"]}]}}`, q.Get("time"))
		case "/api/v1/query_range":
			start, _ := strconv.ParseFloat(q.Get("start"), 64)
			end, _ := strconv.ParseFloat(q.Get("end"), 64)
			var series [2][]string
			for i := range n {
				at := start + (end-start)*float64(i+1)/float64(n+1)
				series[i%2] = append(series[i%2], fmt.Sprintf(`[%.3f,"1"]`, at))
			}
			fmt.Fprintf(w, `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"version":"0.0.1"},"values":[%s]},{"metric":{"version":"0.0.2"},"values":[%s]}]}}`,
				strings.Join(series[0], ","), strings.Join(series[1], ","))
		default:
			http.NotFound(w, r)
		}
	}
}
