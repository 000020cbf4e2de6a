-- wrk script for the TokenReview bench: POSTs a different token per request from a
-- pre-minted pool and counts only correct answers.
--   wrk ... -s bench/wrk/tokenreview.lua URL -- TOKENS_FILE MODE EXPECT [RATE]
-- TOKENS_FILE: one token a line. MODE: "cycle" (cached pool, reused round-robin) or
-- "once" (every token sent at most once; running out is counted as "exhausted" and the
-- pool then wraps, so the result must be discarded). EXPECT: "true" (valid tokens: an
-- answer counts only if it is HTTP 200 with "authenticated":true) or "false".
-- RATE: only with tokenreview-rate.lua, which adds wrk's delay() (defining delay() at
-- all makes wrk put a timer before every request, so the closed-loop script has none).
local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

local reqs, n = {}, 0
ok, bad, sent, once, pool = 0, 0, 0, 0, 0
local needle = '"authenticated":true'
rate_interval = 0 -- ms between sends, for tokenreview-rate.lua

function init(args)
  local file, mode, expect, rate = args[1], args[2], args[3], tonumber(args[4] or "0")
  once = mode == "once" and 1 or 0
  if expect == "false" then needle = '"authenticated":false' end
  if rate and rate > 0 then rate_interval = 1000 / rate end
  local headers = { ["Content-Type"] = "application/json" }
  for token in io.lines(file) do
    if #token > 0 then
      n = n + 1
      reqs[n] = wrk.format("POST", wrk.path, headers,
        '{"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","spec":{"token":"' .. token .. '"}}')
    end
  end
  if n == 0 then error("no tokens in " .. file) end
  pool = n
end

function request()
  sent = sent + 1
  return reqs[(sent - 1) % n + 1]
end

function response(status, headers, body)
  if status == 200 and string.find(body, needle, 1, true) then
    ok = ok + 1
  else
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local okc, badc, ex = 0, 0, 0
  for _, t in ipairs(threads) do
    okc = okc + t:get("ok")
    badc = badc + t:get("bad")
    -- Requests sent beyond the pool in "once" mode reused a token: the run is void.
    if t:get("once") == 1 and t:get("sent") > t:get("pool") then ex = ex + t:get("sent") - t:get("pool") end
  end
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"ok":%d,"bad":%d,"exhausted":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"lat_us":{"mean":%.1f,"p50":%d,"p90":%d,"p99":%d,"p999":%d,"max":%d}}\n',
    summary.requests, summary.duration, okc, badc, ex,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max))
end
