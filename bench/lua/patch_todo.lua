-- PATCH todos with If-Match. Each thread holds a pool of "id ETag" pairs ($BENCH_POOL); a
-- request takes one, its response gives the todo's new ETag back to the pool, so no two
-- requests in flight ever hold the same todo (no 412 from the benchmark itself).
package.path = os.getenv("BENCH_LUA_DIR") .. "/?.lua;" .. package.path
local common = require("common")

local pool = {}
local headers = { ["Content-Type"] = "application/json" }
local flip = false

setup = common.setup
done = common.done

function init(args)
  for _, line in ipairs(common.lines_for_thread(os.getenv("BENCH_POOL"), thread_index)) do
    local id, etag = line:match("^(%S+) (.+)$")
    pool[#pool + 1] = { id = id, etag = etag }
  end
  common.load_tokens(thread_index)
end

function request()
  local todo = table.remove(pool, 1)
  if todo == nil then
    error("PATCH pool exhausted: a response carried no new ETag")
  end
  headers["If-Match"] = todo.etag
  headers["Authorization"] = common.bearer()
  flip = not flip
  local body = flip and '{"done": true, "title": "Patched by wrk"}' or '{"done": false}'
  return wrk.format("PATCH", "/todos/" .. todo.id, headers, body)
end

function response(status, headers, body)
  local id = body:match('"id"%s*:%s*"(%x+)"')
  local etag = headers["ETag"] or headers["Etag"] or headers["etag"]
  if status == 200 and id and etag then
    pool[#pool + 1] = { id = id, etag = etag }
  end
end
