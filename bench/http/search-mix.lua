-- wrk script: the search benchmark's five-query mix (directory/search
-- BenchmarkSearchScale, maillage bench-search), one after another on each
-- connection. Run: wrk -t2 -c32 -d15s -s bench/http/search-mix.lua http://127.0.0.1:8080
local queries = {
  "/api/v1/search?q=epicerie+sociale",
  "/api/v1/search?q=cours+de+francais&category=lecture-ecriture-calcul",
  "/api/v1/search?q=voedselpakket&near=50.8467,4.3525&radius_km=3",
  "/api/v1/search?category=sante&open_at=2026-12-21T10:30:00Z",
  "/api/v1/search?postcode=1060&radius_km=2&sort=distance",
}
local i = 0
request = function()
  i = i % #queries + 1
  return wrk.format("GET", queries[i])
end
local errors = 0
response = function(status, headers, body)
  if status ~= 200 then errors = errors + 1 end
end
done = function(summary, latency, requests)
  io.write(string.format("non-2xx or socket errors: %d\n", summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
  io.write(string.format("latency p50 %.2f ms, p99 %.2f ms\n", latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
