-- wrk script for bench/http.py: POST the payload mix round-robin, optionally paced, and
-- print one JSON line of results at the end.
--
--   [WRK_DELAY_MS=N] [WRK_CONTENT_TYPE=T] wrk ... -s bench/_wrk.lua \
--     http://127.0.0.1:PORT/assess -- PAYLOAD_FILE
--
-- PAYLOAD_FILE holds one compact JSON request per line. WRK_DELAY_MS > 0 makes each
-- connection wait that long before each request (wrk's delay() hook), which caps the
-- offered rate at about connections * 1000 / (WRK_DELAY_MS + latency) requests per second.
-- It is read from the environment because wrk decides whether to call delay() at all from
-- whether the script defines it, before init() sees the arguments. WRK_CONTENT_TYPE is the
-- requests' Content-Type (default application/json; application/fhir+json for the
-- QuestionnaireResponse mix).

local requests = {}
local counter = 0
local delay_ms = tonumber(os.getenv("WRK_DELAY_MS") or "0") or 0
local content_type = os.getenv("WRK_CONTENT_TYPE") or "application/json"

function init(args)
  local path = args[1]
  local headers = { ["Content-Type"] = content_type }
  for line in io.lines(path) do
    if #line > 0 then
      requests[#requests + 1] = wrk.format("POST", nil, headers, line)
    end
  end
  if #requests == 0 then
    error("no payloads in " .. tostring(path))
  end
  -- Threads start at different offsets so they do not send the same payload in lockstep.
  counter = math.random(#requests)
end

function request()
  counter = counter % #requests + 1
  return requests[counter]
end

if delay_ms > 0 then
  function delay()
    return delay_ms
  end
end

function done(summary, latency, requests_)
  local errors = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "bytes": %d, "non2xx": %d, "connect": %d, '
      .. '"read": %d, "write": %d, "timeout": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, '
      .. '"max_us": %d}\n',
    summary.requests, summary.duration, summary.bytes, errors.status, errors.connect,
    errors.read, errors.write, errors.timeout, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max))
end
