-- 80 % GET of a random seeded id, 20 % POST. Arguments: first_id last_id bodies_file
local picus = require("picus")
local first, last, bodies

setup = picus.setup
done = picus.done

function init(args)
  picus.seed()
  first, last = tonumber(args[1]), tonumber(args[2])
  bodies = picus.read_lines(args[3])
end

function request()
  if math.random() < 0.8 then
    return picus.get(first, last)
  end
  return picus.put(bodies)
end
