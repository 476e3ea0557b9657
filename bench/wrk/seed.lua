-- Seeding: exactly `count` POST /picus/put in all, split between the threads; a thread
-- whose share is sent asks for /healthz instead, and stops once every POST is answered.
-- Arguments: bodies_file count threads. Prints SEED_FAILED n when a POST was not a 201.
local picus = require("picus")
local bodies, quota
local sent, answered, failed = 0, 0, 0
-- wrk calls request() once on thread 0's state, after init, to verify the script (wrk.c,
-- script_verify_request); that request is never sent. The runner checks the exact count.
local verification_calls = 0

setup = picus.setup

function init(args)
  picus.seed()
  bodies = picus.read_lines(args[1])
  local count, threads = tonumber(args[2]), tonumber(args[3])
  quota = math.floor(count / threads)
  if thread_index < count % threads then
    quota = quota + 1
  end
  if thread_index == 0 then
    verification_calls = 1
  end
end

function request()
  if verification_calls > 0 then
    verification_calls = verification_calls - 1
    return picus.put(bodies)
  end
  if sent < quota then
    sent = sent + 1
    return picus.put(bodies)
  end
  return wrk.format("GET", "/healthz")
end

function response(status, headers, body)
  if status == 200 or answered >= quota then
    return -- a /healthz filler (a POST never answers 200)
  end
  answered = answered + 1
  if status ~= 201 then
    failed = failed + 1
  end
  if answered >= quota then
    if failed > 0 then
      io.write("SEED_FAILED " .. failed .. "\n")
    end
    wrk.thread:stop()
  end
end

done = picus.done
