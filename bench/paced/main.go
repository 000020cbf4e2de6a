// A paced HTTPS load generator for bench/ (wrk2 is not packaged, and wrk's delay() is
// whole milliseconds): sends TokenReviews at a fixed rate on a nanosecond schedule and
// measures each latency from the request's scheduled send time, not from when it left, so
// a stall of the server (or of this generator) is counted for every request it delays
// (no coordinated omission). N keep-alive connections, one worker each; a slot goes to
// the next free worker, and waits in line while all are busy.
//
//	paced -url URL -tokens FILE -rate 2000 -seconds 10 -connections 50 -ca CA.pem [-expect true]
//
// The first -lead-in seconds (default 1) run at the same rate but their latencies are not
// counted: the pool's 50 connections are opened just before the clock starts, and the first
// requests after that meet whatever setting them up left behind, on the generator's side too
// (wrk2 leaves a 10 s calibration period out of its results for the same reason). Counts,
// rates and the duration cover the whole run, so the server's CPU per answer stays the CPU
// it used over every answer it gave.
//
// Prints one line: PACEDJSON {...} with the fields bench/lib/wrk.mjs reads from wrk.
package main

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

const prSetTimerslack = 29

func main() {
	url := flag.String("url", "", "review URL")
	tokensFile := flag.String("tokens", "", "one token a line, cycled")
	rate := flag.Float64("rate", 2000, "requests per second")
	seconds := flag.Float64("seconds", 10, "length of the run whose latencies count")
	leadIn := flag.Float64("lead-in", 1, "seconds at the rate before latencies count")
	conns := flag.Int("connections", 50, "keep-alive connections")
	caFile := flag.String("ca", "", "CA certificate (PEM)")
	expect := flag.String("expect", "true", `"true": count 200 with "authenticated":true`)
	flag.Parse()

	ca, err := os.ReadFile(*caFile)
	check(err)
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		fail("no certificate in %s", *caFile)
	}
	bodies := readBodies(*tokensFile)
	needle := []byte(`"authenticated":` + *expect)

	clients := make([]*http.Client, *conns)
	for i := range clients {
		clients[i] = &http.Client{Transport: &http.Transport{
			TLSClientConfig:     &tls.Config{RootCAs: pool, ServerName: "localhost"},
			MaxConnsPerHost:     1,
			MaxIdleConnsPerHost: 1,
			DisableCompression:  true,
			ForceAttemptHTTP2:   false,
		}}
	}
	var next atomic.Uint64
	send := func(c *http.Client) (bool, error) {
		b := bodies[next.Add(1)%uint64(len(bodies))]
		resp, err := c.Post(*url, "application/json", bytes.NewReader(b))
		if err != nil {
			return false, err
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		return err == nil && resp.StatusCode == 200 && bytes.Contains(body, needle), err
	}
	// Every connection opened (TLS handshake done) before the clock starts.
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Add(1)
		go func(c *http.Client) { defer wg.Done(); _, err := send(c); check(err) }(c)
	}
	wg.Wait()

	interval := time.Duration(float64(time.Second) / *rate)
	skip := int(*rate * *leadIn)
	total := skip + int(*rate**seconds)
	type slot struct {
		t time.Time
		k int
	}
	slots := make(chan slot, total)
	n := total - skip
	lat := make([]int64, n)
	sched := make([]int64, n)
	lag := make([]int64, n)
	dispatchLag := make([]int64, n)
	second := make([]int32, n)
	var ok, bad, errs atomic.Int64
	var done sync.WaitGroup
	start := time.Now()
	counted := start.Add(time.Duration(skip) * interval)
	for _, c := range clients {
		done.Add(1)
		go func(c *http.Client) {
			defer done.Done()
			for s := range slots {
				sent := time.Now()
				good, err := send(c)
				if i := s.k - skip; i >= 0 {
					lat[i] = int64(time.Since(s.t) / time.Microsecond)
					lag[i] = int64(sent.Sub(s.t) / time.Microsecond)
					second[i] = int32(s.t.Sub(counted) / time.Second)
					sched[i] = int64(s.t.Sub(counted) / time.Microsecond)
				}
				switch {
				case err != nil:
					errs.Add(1)
				case good:
					ok.Add(1)
				default:
					bad.Add(1)
				}
			}
		}(c)
	}
	// Go's timers wake up to ~1 ms late (half a slot at 2,000/s): the schedule sleeps with
	// nanosleep on a thread of its own, with the kernel's timer slack at 1 ns (PR_SET_TIMERSLACK).
	runtime.LockOSThread()
	syscall.RawSyscall(syscall.SYS_PRCTL, prSetTimerslack, 1, 0)
	for k := 0; k < total; k++ {
		t := start.Add(time.Duration(k) * interval)
		if d := time.Until(t); d > 0 {
			ts := syscall.NsecToTimespec(int64(d))
			_ = syscall.Nanosleep(&ts, nil)
		}
		slots <- slot{t, k}
		if k >= skip {
			dispatchLag[k-skip] = int64(time.Since(t) / time.Microsecond)
		}
	}
	close(slots)
	done.Wait()
	elapsed := time.Since(start)
	pct := func(s []int64, p float64) int64 {
		if len(s) == 0 {
			return 0
		}
		i := int(p / 100 * float64(len(s)))
		if i >= len(s) {
			i = len(s) - 1
		}
		return s[i]
	}
	// The slowest requests, by when they were scheduled: where in the run the tail sits.
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return lat[order[a]] > lat[order[b]] })
	worst := [][2]int64{}
	for _, i := range order[:min(n, 10)] {
		worst = append(worst, [2]int64{sched[i] / 1000, lat[i]})
	}
	var sum int64
	perSecond := map[int32][]int64{}
	for i, v := range lat {
		sum += v
		perSecond[second[i]] = append(perSecond[second[i]], v)
	}
	sort.Slice(lat, func(a, b int) bool { return lat[a] < lat[b] })
	sort.Slice(lag, func(a, b int) bool { return lag[a] < lag[b] })
	sort.Slice(dispatchLag, func(a, b int) bool { return dispatchLag[a] < dispatchLag[b] })
	// p99 of each second of the schedule: how the tail moves over a run (warm-up).
	p99BySecond := make([]int64, 0, len(perSecond))
	for sec := int32(0); int(sec) < len(perSecond); sec++ {
		v := perSecond[sec]
		sort.Slice(v, func(a, b int) bool { return v[a] < v[b] })
		p99BySecond = append(p99BySecond, pct(v, 99))
	}
	late := 0
	for _, v := range lag {
		if v > 1000 {
			late++
		}
	}
	out := map[string]any{
		"requests": total, "duration_us": elapsed.Microseconds(), "ok": ok.Load(), "bad": bad.Load(), "exhausted": 0,
		"errors": map[string]int64{"connect": 0, "read": errs.Load(), "write": 0, "status": 0, "timeout": 0},
		"lat_us": map[string]any{"mean": float64(sum) / float64(max(n, 1)), "p50": pct(lat, 50), "p90": pct(lat, 90),
			"p99": pct(lat, 99), "p999": pct(lat, 99.9), "max": pct(lat, 100)},
		// How late this generator's own schedule ran (its share of every latency), and how late
		// requests left (that, plus waiting for a free connection while the server held all of them).
		"lag_us":   map[string]any{"p50": pct(dispatchLag, 50), "p99": pct(dispatchLag, 99), "max": pct(dispatchLag, 100)},
		"start_us": map[string]any{"p50": pct(lag, 50), "p99": pct(lag, 99), "max": pct(lag, 100)},
		"late":     late,
		// p99 of each second of the schedule, and the ten slowest requests as [ms into the run, µs].
		"p99_by_second_us": p99BySecond,
		"worst":            worst,
	}
	j, _ := json.Marshal(out)
	fmt.Printf("PACEDJSON %s\n", j)
}

func readBodies(file string) [][]byte {
	f, err := os.Open(file)
	check(err)
	defer f.Close()
	var bodies [][]byte
	s := bufio.NewScanner(f)
	s.Buffer(make([]byte, 64*1024), 1<<20)
	for s.Scan() {
		if t := s.Text(); t != "" {
			bodies = append(bodies, []byte(`{"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","spec":{"token":"`+t+`"}}`))
		}
	}
	check(s.Err())
	if len(bodies) == 0 {
		fail("no tokens in %s", file)
	}
	return bodies
}

func check(err error) {
	if err != nil {
		fail("%v", err)
	}
}

func fail(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "paced: "+format+"\n", a...)
	os.Exit(1)
}
