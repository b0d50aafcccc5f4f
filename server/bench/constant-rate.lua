-- wrk script: a constant request rate across all connections, for latency at a fixed load.
--
-- wrk itself is closed-loop: each connection sends its next request when the last answer arrives.
-- Here every connection, once answered, waits for the next free slot of one global schedule
-- (BENCH_RATE slots a second), so requests leave evenly spaced whatever the latency. A request that
-- could not leave on time (every connection busy) is sent as soon as one is free and counted in
-- `late`; with `late` = 0 no request waited for its turn, so wrk's latencies (measured from the
-- moment a request is written) are the whole story. wrk also waits for a slot before each
-- connection's first request, so starting many connections causes no burst. Use many connections
-- (the harness opens 128): a request is only late when all of them wait on answers at once.
--
-- Environment: BENCH_RATE (requests per second, all connections together), BENCH_PATHS (a file with
-- one request path per line, used in turn; without it, the URL's path).
local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clock_id, bench_timespec *tp);
]]
local clock = ffi.new("bench_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, clock) -- CLOCK_MONOTONIC
  return tonumber(clock.tv_sec) * 1000 + tonumber(clock.tv_nsec) / 1e6
end

local interval = 1000 / tonumber(os.getenv("BENCH_RATE") or "1000")
local paths = {}
local file = os.getenv("BENCH_PATHS")
if file then
  for line in io.lines(file) do
    if #line > 0 then paths[#paths + 1] = line end
  end
end

-- Each wrk thread runs its own copy of this script; `done` runs in yet another and reads the
-- threads' counters through their handles. Use one thread (-t1) so there is one schedule.
local threads = {}
setup = function(thread)
  threads[#threads + 1] = thread
end

next_slot, sent, late, worst_lag = nil, 0, 0, 0

request = function()
  sent = sent + 1
  if #paths == 0 then return wrk.format("GET") end
  return wrk.format("GET", paths[(sent % #paths) + 1])
end

delay = function()
  local now = now_ms()
  next_slot = (next_slot or now) + interval
  local wait = next_slot - now
  if wait >= 0 then return wait end
  late = late + 1
  if -wait > worst_lag then worst_lag = -wait end
  return 0
end

done = function(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local errors = summary.errors
  local late_total, lag = 0, 0
  for _, thread in ipairs(threads) do
    late_total = late_total + thread:get("late")
    lag = math.max(lag, thread:get("worst_lag"))
  end
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"rps":%.1f,"p50":%.3f,"p90":%.3f,"p99":%.3f,"p999":%.3f,"max":%.3f,"non2xx":%d,"socket_errors":%d,"late":%d,"worst_lag_ms":%.3f}\n',
    summary.requests, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency:percentile(99.9) / 1000,
    latency.max / 1000, errors.status, errors.connect + errors.read + errors.write + errors.timeout, late_total, lag))
end
