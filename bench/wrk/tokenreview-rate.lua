-- tokenreview.lua at a fixed offered load (wrk2 is not packaged in Debian):
--   wrk -t1 ... -s bench/wrk/tokenreview-rate.lua URL -- TOKENS_FILE MODE EXPECT RATE
-- Sends are scheduled on one timeline of the thread, slot k at t0 + k/RATE; each
-- connection, once free, takes the next slot and waits for it with delay(). wrk measures
-- latency from the send, so this is the latency at RATE requests/s (a late slot is sent
-- at once, and how late is not added: fine while the server keeps up, which the achieved
-- rate shows).
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "tokenreview.lua")

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clk, bench_timespec *ts);
]]
local ts = ffi.new("bench_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

local next_slot = nil
function delay()
  if rate_interval == 0 then return 0 end
  local now = now_ms()
  if next_slot == nil then next_slot = now end
  next_slot = next_slot + rate_interval
  local d = next_slot - now
  if d < 0 then return 0 end
  return d
end
