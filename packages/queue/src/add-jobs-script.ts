/**
 * Adds many group-message jobs in one call, each exactly as BullMQ 6.7's own `addStandardJob`
 * script adds a job with a custom id and no parent, delay, priority or deduplication option: the
 * same job hash, the same wait list and marker, the same "added"/"waiting"/"duplicated" events. So
 * BullMQ workers, retries and the dashboard see ordinary jobs. (`add-jobs.int.test.ts` compares
 * the result with BullMQ's own add in every branch, so an upgrade that changes it fails loudly.)
 *
 * Why: one EVALSHA per job costs Redis and the receiver more than everything else a callback
 * needs; one call for all callbacks accepted in the same event-loop turn shares that cost. Kept
 * because, measured side by side by `pnpm bench` (BENCHMARKS.md, "The add script"), it costs
 * less than BullMQ's public `addBulk` and `queue.add` with autopipelining by more than 1.3× (CPU
 * per job, client and Redis) at every batch size. The bullmq pin in pnpm-workspace.yaml says what
 * a version bump needs.
 *
 * KEYS: wait, meta, id, active, events, marker
 * ARGV: job key prefix ("<prefix>:<queue>:"), job name, timestamp, opts JSON up to the jobId
 *       value, then (jobId, data JSON) pairs.
 * Returns 1 (added) or 0 (a job with that id exists; nothing changed) per job, in order.
 */
export const ADD_JOBS_SCRIPT = `
local rcall = redis.call
local waitKey, metaKey, idKey, activeKey, eventsKey, markerKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local keyPrefix, name, timestamp, optsHead = ARGV[1], ARGV[2], ARGV[3], ARGV[4]

local maxEvents = rcall("HGET", metaKey, "opts.maxLenEvents")
if not maxEvents then
  maxEvents = 10000
  rcall("HSET", metaKey, "opts.maxLenEvents", maxEvents)
end
local attributes = rcall("HMGET", metaKey, "paused", "concurrency")
local pausedOrMaxed = false
if attributes[1] then
  pausedOrMaxed = true
elseif attributes[2] then
  pausedOrMaxed = rcall("LLEN", activeKey) >= tonumber(attributes[2])
end

local results = {}
local added = 0
rcall("INCRBY", idKey, (#ARGV - 4) / 2)
for i = 5, #ARGV, 2 do
  local jobId = ARGV[i]
  local jobKey = keyPrefix .. jobId
  if rcall("EXISTS", jobKey) == 1 then
    rcall("XADD", eventsKey, "MAXLEN", "~", maxEvents, "*", "event", "duplicated", "jobId", jobId)
    results[#results + 1] = 0
  else
    rcall("HMSET", jobKey, "name", name, "data", ARGV[i + 1], "opts", optsHead .. jobId .. '"}',
      "timestamp", timestamp, "delay", 0, "priority", 0)
    rcall("XADD", eventsKey, "*", "event", "added", "jobId", jobId, "name", name)
    rcall("LPUSH", waitKey, jobId)
    rcall("XADD", eventsKey, "MAXLEN", "~", maxEvents, "*", "event", "waiting", "jobId", jobId)
    results[#results + 1] = 1
    added = added + 1
  end
end
if added > 0 and not pausedOrMaxed then
  rcall("ZADD", markerKey, 0, "0")
end
return results
`;
