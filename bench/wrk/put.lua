-- POST /picus/put with one of the runner's ~200-byte documents. Arguments: bodies_file
local picus = require("picus")
local bodies

setup = picus.setup
done = picus.done

function init(args)
  picus.seed()
  bodies = picus.read_lines(args[1])
end

function request()
  return picus.put(bodies)
end
