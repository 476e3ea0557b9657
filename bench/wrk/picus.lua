-- Shared by the wrk scenario scripts (loaded with require; wrk runs from this directory).
-- Each wrk thread has its own Lua state: `setup` numbers the threads so that random
-- streams and id ranges differ per thread, and `done` prints one JSON line for the runner.
local M = {}

local next_thread = 0

function M.setup(thread)
  thread:set("thread_index", next_thread)
  next_thread = next_thread + 1
end

function M.seed()
  math.randomseed(os.time() * 1000 + (thread_index or 0) * 7919)
end

-- Read the request bodies the runner wrote, one JSON document per line.
function M.read_lines(path)
  local lines = {}
  for line in io.lines(path) do
    lines[#lines + 1] = line
  end
  assert(#lines > 0, "no lines in " .. path)
  return lines
end

local json_headers = { ["Content-Type"] = "application/json" }

function M.get(first, last)
  return wrk.format("GET", "/picus/get/" .. math.random(first, last))
end

function M.put(bodies)
  return wrk.format("POST", "/picus/put", json_headers, bodies[math.random(#bodies)])
end

function M.done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%.1f}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean))
end

return M
