-- wrk script for the receiver benchmark: every request is a new group message (MsgSeq counts up,
-- Random is the round's seed), so no two requests are the same message and none is deduplicated.
-- BENCH_PATH carries the signed query; BENCH_SEED tells rounds apart.
local counter = 0
local seed = tonumber(os.getenv("BENCH_SEED") or "1")
local path = os.getenv("BENCH_PATH")
local head = '{"CallbackCommand":"Group.CallbackAfterSendMsg","GroupId":"@TGS#2QH7MZ4NE","Type":"Public","From_Account":"lin.wei","Operator_Account":"lin.wei","Random":'
local middle = ',"MsgSeq":'
local tail = ',"MsgId":"144115225981402317-1767583321-3390517742","MsgTime":1767583321,"OnlineOnlyFlag":0,"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"Standup moved to 10:30, room B."}}],"CloudCustomData":"","EventTime":1767583321037}'
local headers = { ["Content-Type"] = "application/json" }

request = function()
  counter = counter + 1
  return wrk.format("POST", path, headers, head .. seed .. middle .. counter .. tail)
end
