-- POST /todos with the same small body each time (every request creates a todo), with the
-- tokens of $BENCH_TOKENS in turn.
package.path = os.getenv("BENCH_LUA_DIR") .. "/?.lua;" .. package.path
local common = require("common")

local headers = { ["Content-Type"] = "application/json" }
local body = '{"title": "Benchmark todo", "notes": "created by wrk", "priority": "high", "tags": ["bench"]}'

setup = common.setup
done = common.done

function init(args)
  common.load_tokens(thread_index)
end

function request()
  headers["Authorization"] = common.bearer()
  return wrk.format("POST", "/todos", headers, body)
end
