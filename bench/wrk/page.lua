-- GET /picus/list?limit=100&after=A from a random seeded A. Arguments: first_id last_id
local picus = require("picus")
local first, last

setup = picus.setup
done = picus.done

function init(args)
  picus.seed()
  first, last = tonumber(args[1]), tonumber(args[2])
end

function request()
  local after = math.random(first - 1, last - 100)
  return wrk.format("GET", "/picus/list?limit=100&after=" .. after)
end
