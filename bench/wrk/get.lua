-- GET /picus/get/{id} for a random seeded id. Arguments: first_id last_id
local picus = require("picus")
local first, last

setup = picus.setup
done = picus.done

function init(args)
  picus.seed()
  first, last = tonumber(args[1]), tonumber(args[2])
end

function request()
  return picus.get(first, last)
end
