-- wrk script: the public pages a resident opens, in turn on each
-- connection: the home page, search pages in three languages, and service
-- pages picked at random from a file of service ids (one per line, e.g.
-- from `curl -s 'http://NODE/api/v1/services?per_page=500' | jq -r '.services[].id' > ids.txt`).
-- Run: IDS=ids.txt wrk -t2 -c200 -d60s -s bench/http/public-pages.lua http://127.0.0.1:8080
local ids = {}
local file = os.getenv("IDS") or "ids.txt"
for line in io.lines(file) do
  if #line > 0 then ids[#ids + 1] = line end
end
local pages = {
  "/",
  "/search?q=epicerie&lang=fr",
  "/search?q=voedselpakket&lang=nl",
  "/search?q=french+classes&postcode=1060&lang=en",
}
local i = 0
request = function()
  i = i + 1
  if i % 2 == 0 and #ids > 0 then
    return wrk.format("GET", "/services/" .. ids[math.random(#ids)])
  end
  return wrk.format("GET", pages[math.floor(i / 2) % #pages + 1])
end
done = function(summary, latency, requests)
  io.write(string.format("non-2xx or socket errors: %d\n", summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
  io.write(string.format("latency p50 %.2f ms, p99 %.2f ms\n", latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
