-- Shared by the bench scripts: settings from the environment, pools split across wrk threads,
-- and a done() that prints wrk's latency distribution as one JSON line for bench/run.py.
local M = {}

M.threads = tonumber(os.getenv("BENCH_THREADS") or "1")

-- The access tokens in $BENCH_TOKENS (one per line: many clients), used in turn; each thread
-- starts at its own offset.
local tokens, token_index = {}, 0

function M.load_tokens(index)
  for line in io.lines(os.getenv("BENCH_TOKENS")) do
    if line ~= "" then tokens[#tokens + 1] = line end
  end
  token_index = (index * 7) % #tokens
end

function M.bearer()
  token_index = token_index % #tokens + 1
  return "Bearer " .. tokens[token_index]
end

-- This thread's share of the lines of a file (line i goes to thread i mod threads).
function M.lines_for_thread(path, index)
  local mine, i = {}, 0
  for line in io.lines(path) do
    if line ~= "" then
      if i % M.threads == index then
        mine[#mine + 1] = line
      end
      i = i + 1
    end
  end
  return mine
end

local counter = 0

-- wrk calls setup(thread) in the main Lua state before each thread's init().
function M.setup(thread)
  thread:set("thread_index", counter)
  counter = counter + 1
end

function M.done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"mean":%.1f,"stdev":%.1f,"max":%d,"p50":%d,"p75":%d,"p90":%d,"p99":%d,"p999":%d}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency.stdev, latency.max,
    latency:percentile(50), latency:percentile(75), latency:percentile(90),
    latency:percentile(99), latency:percentile(99.9)))
end

return M
