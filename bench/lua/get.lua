-- GET the paths in $BENCH_PATHS in turn, with the tokens of $BENCH_TOKENS in turn.
package.path = os.getenv("BENCH_LUA_DIR") .. "/?.lua;" .. package.path
local common = require("common")

local paths, next_index = {}, 0
local headers = {}

setup = common.setup
done = common.done

function init(args)
  -- Every thread walks all the paths (they are shared, not single-use), from its own offset.
  for line in io.lines(os.getenv("BENCH_PATHS")) do
    if line ~= "" then paths[#paths + 1] = line end
  end
  next_index = thread_index % #paths
  common.load_tokens(thread_index)
end

function request()
  next_index = next_index % #paths + 1
  headers["Authorization"] = common.bearer()
  return wrk.format("GET", paths[next_index], headers)
end
