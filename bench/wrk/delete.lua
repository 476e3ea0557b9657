-- DELETE /picus/{id}, each id once: thread t of n takes first+t, first+t+n, ...
-- Arguments: first_id last_id threads. Past last_id the ids no longer exist (404s).
local picus = require("picus")
local next_id, step

setup = picus.setup
done = picus.done

function init(args)
  step = tonumber(args[3])
  next_id = tonumber(args[1]) + thread_index
end

function request()
  local id = next_id
  next_id = next_id + step
  return wrk.format("DELETE", "/picus/" .. id)
end
