-- POST /todos with the same small body each time (every request creates a todo).
package.path = os.getenv("BENCH_LUA_DIR") .. "/?.lua;" .. package.path
local common = require("common")

wrk.method = "POST"
wrk.path = "/todos"
wrk.headers["Authorization"] = "Bearer " .. common.token
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"title": "Benchmark todo", "notes": "created by wrk", "priority": "high", "tags": ["bench"]}'

setup = common.setup
done = common.done
