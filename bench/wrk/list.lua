-- GET /picus/list: every item, streamed. No arguments.
local picus = require("picus")

setup = picus.setup
done = picus.done

function request()
  return wrk.format("GET", "/picus/list")
end
