package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"
)

// searchMix is the query mix of the search benchmark
// (directory/search BenchmarkSearchScale), as API queries: keyword;
// keyword + category; keyword + radius; category + open at; postcode +
// radius by distance.
var searchMix = []string{
	"q=epicerie+sociale",
	"q=cours+de+francais&category=lecture-ecriture-calcul",
	"q=voedselpakket&near=50.8467,4.3525&radius_km=3",
	"category=sante&open_at=2026-12-21T10:30:00Z",
	"postcode=1060&radius_km=2&sort=distance",
}

func benchSearchCommand() command {
	return command{name: "bench-search", summary: "load a running node's search API with the benchmark query mix and report throughput and latency", define: func(fs *flag.FlagSet) func(context.Context, *cli, []string) error {
		base := fs.String("url", "http://127.0.0.1:8080", "base URL of the node")
		clients := fs.Int("clients", 32, "concurrent clients, each on its own keep-alive connection")
		duration := fs.Duration("duration", 10*time.Second, "how long to run")
		return func(ctx context.Context, c *cli, args []string) error {
			u, err := url.Parse(*base)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return usagef("--url must be an http(s) base URL")
			}
			if *clients < 1 || *clients > 10_000 {
				return usagef("--clients must be between 1 and 10000")
			}
			if *duration <= 0 || *duration > 24*time.Hour {
				return usagef("--duration must be positive and at most 24h")
			}
			r, err := loadSearch(ctx, *base, *clients, *duration)
			if err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "%d searches in %s by %d clients: %.0f/s, %d errors; latency p50 %.2f ms, p95 %.2f ms, p99 %.2f ms, max %.2f ms\n",
				r.count, r.elapsed.Round(time.Millisecond), *clients, float64(r.count)/r.elapsed.Seconds(), r.errors,
				ms(r.pct(0.50)), ms(r.pct(0.95)), ms(r.pct(0.99)), ms(r.pct(1)))
			if r.errors > 0 {
				return fmt.Errorf("%d searches failed (first: %v)", r.errors, r.firstErr)
			}
			return nil
		}
	}}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

type loadResult struct {
	count, errors int
	firstErr      error
	elapsed       time.Duration
	latencies     []time.Duration // sorted
}

func (r loadResult) pct(p float64) time.Duration {
	if len(r.latencies) == 0 {
		return 0
	}
	return r.latencies[int(p*float64(len(r.latencies)-1))]
}

// loadSearch runs clients loops over the query mix for d.
func loadSearch(ctx context.Context, base string, clients int, d time.Duration) (loadResult, error) {
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}}
	defer client.CloseIdleConnections()
	// One search first: a node that is not there fails at once.
	if resp, err := client.Get(base + "/api/v1/search?" + searchMix[0]); err != nil {
		return loadResult{}, fmt.Errorf("bench-search: %w", err)
	} else {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return loadResult{}, fmt.Errorf("bench-search: %s answered %s", base, resp.Status)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var mu sync.Mutex
	var res loadResult
	var wg sync.WaitGroup
	start := time.Now()
	for i := range clients {
		wg.Go(func() {
			var lat []time.Duration
			var errs int
			var first error
			for j := i; ctx.Err() == nil; j++ {
				t0 := time.Now()
				err := func() error {
					resp, err := client.Get(base + "/api/v1/search?" + searchMix[j%len(searchMix)])
					if err != nil {
						return err
					}
					defer resp.Body.Close()
					if _, err := io.Copy(io.Discard, resp.Body); err != nil {
						return err
					}
					if resp.StatusCode != http.StatusOK {
						return fmt.Errorf("status %s", resp.Status)
					}
					return nil
				}()
				if err != nil {
					errs++
					if first == nil {
						first = err
					}
					continue
				}
				lat = append(lat, time.Since(t0))
			}
			mu.Lock()
			res.latencies = append(res.latencies, lat...)
			res.errors += errs
			if res.firstErr == nil {
				res.firstErr = first
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	res.count = len(res.latencies)
	slices.Sort(res.latencies)
	return res, nil
}
