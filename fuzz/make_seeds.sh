#!/usr/bin/env bash
# Writes the seed corpus of every fuzz target into <out>/<target>/ (one file per seed): valid
# and near-valid inputs written here by hand (list filters, cron strings, phrases, calendar specs,
# HTTP requests, CLI values) and protobuf messages encoded with protoc from text format. The
# fuzzers mutate from these; fuzz/regressions/<target>/ holds inputs that once crashed.
# Usage: fuzz/make_seeds.sh <out dir>
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$1"
mkdir -p "$out"

# seed <target> <bytes as printf format>
n=0
seed() {
  mkdir -p "$out/$1"
  n=$((n + 1))
  printf "$2" > "$out/$1/seed-$n"
}
# lit <target> <prefix byte as printf format> <literal text>
lit() {
  mkdir -p "$out/$1"
  n=$((n + 1))
  { printf "$2"; printf '%s' "$3"; } > "$out/$1/seed-$n"
}

# --- list filters
for q in \
  "WorkflowId='x'" \
  "WorkflowType = 'CheckersIngestionWorkflow' AND ExecutionStatus = 'Running'" \
  "ExecutionStatus='Failed' AND WorkflowType='CheckersIngestionWorkflow' ORDER BY StartTime DESC" \
  "StartTime > '2024-01-01T00:00:00Z' AND CloseTime < \"2024-02-01T00:00:00+02:00\"" \
  "(WorkflowId = 'a' OR WorkflowId = 'b') AND NOT (RunId = 'c')" \
  "WorkflowId IN ('a', 'b', 'c') AND WorkflowType NOT IN ('x')" \
  "WorkflowId STARTS_WITH 'ingest-' AND TaskQueue != 'q'" \
  "ExecutionDuration > '2h45m' AND ExecutionDuration <= 3600000000000" \
  "CustomIntField BETWEEN 1 AND 10 AND CustomDoubleField >= 1.5e3" \
  "CustomBoolField = true AND CustomKeywordListField = 'k1' AND CustomTextField = 'some words'" \
  "CustomDatetimeField IS NULL OR CustomKeywordField IS NOT NULL" \
  "\`CustomKeywordField\` = 'x' AND HistoryLength > 10 AND StateTransitionCount < 5" \
  "GROUP BY ExecutionStatus" \
  "ExecutionStatus = 'Running' GROUP BY ExecutionStatus" \
  "TemporalScheduledById = 'sched' ORDER BY CloseTime ASC, WorkflowId" \
  "((((WorkflowId='x'))))" \
  "WorkflowId = 'it''s' AND WorkflowId LIKE '%x'" \
  "ExecutionStatus = 3 OR ExecutionStatus = 'WORKFLOW_EXECUTION_STATUS_COMPLETED'" ; do
  lit list_filter "" "$q"
done

# Hostile list filters (deep nesting, many terms, out-of-range values): must be INVALID_ARGUMENT.
deep=$(printf '%*s' 5000 '' | tr ' ' '(')
shut=$(printf '%*s' 5000 '' | tr ' ' ')')
lit list_filter "" "${deep}WorkflowId='x'${shut}"
lit list_filter "" "$(printf "WorkflowId='x' OR %.0s" $(seq 1 1500))WorkflowId='y'"
lit list_filter "" "$(printf 'NOT %.0s' $(seq 1 3000))WorkflowId='x'"
lit list_filter "" "ExecutionDuration > '99999999999999999999h' OR ExecutionDuration < '1e308h'"
lit list_filter "" "StartTime > '9999999-01-01T00:00:00Z' AND CustomIntField > 99999999999999999999999"

# --- schedule specs: first byte 0 cron, 1 phrase, 2 ScheduleSpec JSON, 3 Go duration
for c in "0 2 * * 0" "CRON_TZ=Africa/Johannesburg 0 2 * * 0" "*/15 6-22 * * MON-FRI" "0 0 13 * FRI" \
         "30 0 0 1 JAN,JUL * 2026-2030" "@hourly" "@every 90m" "@every 5h/45m" "TZ=UTC @daily # nightly" \
         "0 0 29 2 *" "59 23 31 12 6 2100" "@every 99999999999999999999h" "@every 1s/99999999999h" "*/0 * * * *" \
         "0-59/99999999999 * * * *" "* * * * * 1999-2200"; do
  lit schedule_spec '\x00' "$c"
done
for p in "every 2h between 06:00-22:00 Africa/Johannesburg" "every 15m between 08:00-17:00 Europe/London" \
         "daily at 03:30" "weekdays at 09:00,17:30 America/New_York" "every 7m" "daily at 6:00 , 18:00 UTC"; do
  lit schedule_spec '\x01' "$p"
done
for j in \
  '{"calendar":[{"second":"0","minute":"*/5","hour":"6-22","dayOfWeek":"MON-FRI","comment":"c"}]}' \
  '{"structuredCalendar":[{"hour":[{"start":6,"end":22,"step":2}],"minute":[{"start":0}]}],"timezoneName":"Europe/London"}' \
  '{"interval":[{"interval":"3600s","phase":"900s"}],"jitter":"60s","startTime":"2026-01-01T00:00:00Z","endTime":"2027-01-01T00:00:00Z"}' \
  '{"cronString":["0 2 * * *"],"excludeCalendar":[{"dayOfMonth":"25","month":"12"}]}' \
  '{"calendar":[{"hour":"1","minute":"30"}],"timezoneName":"America/New_York"}' \
  '{"excludeStructuredCalendar":[{"second":[{"start":0,"end":59}]}],"interval":[{"interval":"1s"}]}'; do
  lit schedule_spec '\x02' "$j"
done
for d in "300ms" "-1.5h" "2h45m" "5d" "1h30m10s" "0" "-9223372036854775808s" "1e309s" "99999999999999999999999h"; do
  lit schedule_spec '\x03' "$d"
done

# --- HTTP API requests: METHOD \n PATH \n QUERY \n BODY
lit http_transcode "" $'POST\n/api/v1/namespaces/default/workflows/w1\n\n{"workflowType":{"name":"T"},"taskQueue":{"name":"q"},"workflowIdReusePolicy":"RejectDuplicate","workflowRunTimeout":"60s","input":{"payloads":[{"metadata":{"encoding":"anNvbi9wbGFpbg=="},"data":"MQ=="}]}}'
lit http_transcode "" $'GET\n/api/v1/namespaces/default/workflows\nquery=ExecutionStatus%3D%27Failed%27&pageSize=10\n'
lit http_transcode "" $'GET\n/api/v1/namespaces/default/workflows/a%2Fb%20c/history\nwaitNewEvent=true&historyEventFilterType=CloseEvent\n'
lit http_transcode "" $'POST\n/api/v1/namespaces/default/workflows/w1/signal/sig\n\n{"input":{"payloads":[]},"identity":"me"}'
lit http_transcode "" $'POST\n/api/v1/namespaces/default/schedules/s1\n\n{"schedule":{"spec":{"cronString":["@hourly"]},"action":{"startWorkflow":{"workflowId":"x","workflowType":{"name":"T"},"taskQueue":{"name":"q"}}}}}'
lit http_transcode "" $'GET\n/api/v1/namespaces/default/schedules\nmaximumPageSize=5&nextPageToken=YWJj\n'
lit http_transcode "" $'DELETE\n/api/v1/namespaces/default/workflows/w1\nworkflowExecution.runId=r1\n'
lit http_transcode "" $'POST\n/api/v1/namespaces/default/workflows/w1/update/u\n\n{"request":{"meta":{"updateId":"1"},"input":{"name":"u"}},"waitPolicy":{"lifecycleStage":"UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED"}}'
lit http_transcode "" $'GET\n/api/v1/namespaces\n\n'
lit http_transcode "" $'POST\n/api/v1/namespaces/default/search-attributes\n\n{"searchAttributes":{"StoreId":"INDEXED_VALUE_TYPE_KEYWORD"}}'

# --- CLI values: first byte 0 duration, 1 --input [\n --input-meta], 2 KEY=JSON, 3 base64, 4 enum/payload
for d in "10s" "1m30s" "72h" "5d" "250ms" "1.5h" "-5h" "0" "87600h" "1µs" "1e400h" "99999999999999999999h" ".h" "1e18s"; do lit cli_input '\x00' "$d"; done
lit cli_input '\x01' '{"storeId":"sixty60-jhb","forceRefresh":true}'
lit cli_input '\x01' $'"text"\nencoding=json/plain'
lit cli_input '\x81' $'aGVsbG8=\nencoding=binary/plain'
lit cli_input '\x02' 'key={"a":[1,2,{"b":null}]}'
lit cli_input '\x02' 'StoreId="sixty60-jhb"'
lit cli_input '\x03' 'aGVsbG8gd29ybGQ='
lit cli_input '\x04' 'TimedOut'
lit cli_input '\x84' '{"a":1e308,"b":"\u00e9"}'

# --- protobuf values (protoc --encode from text format); first byte 0 task token,
# 1 SearchAttributes, 2 Payload
protos="$root/node_modules/@temporalio/core-bridge/sdk-core/crates/protos/protos/api_upstream"
enc() {  # enc <target> <prefix> <message type> <proto file> <text>
  mkdir -p "$out/$1"
  n=$((n + 1))
  { printf "$2"; printf '%s' "$5" | protoc -I "$protos" -I "$root/src" -I /usr/include --encode="$3" "$4"; } > "$out/$1/seed-$n"
}
if [ -d "$protos" ] && command -v protoc >/dev/null; then
  enc request_values '\x00' temporalite.state.TaskToken history/state.proto \
    'kind: WORKFLOW_TASK namespace_id: "ns" workflow_id: "w" run_id: "r" scheduled_event_id: 2 started_event_id: 3 attempt: 1'
  enc request_values '\x00' temporalite.state.TaskToken history/state.proto \
    'kind: ACTIVITY_TASK namespace_id: "ns" workflow_id: "w" run_id: "r" scheduled_event_id: 5 attempt: 2 activity_id: "a1"'
  enc request_values '\x01' temporal.api.common.v1.SearchAttributes temporal/api/common/v1/message.proto \
    'indexed_fields { key: "CustomKeywordField" value { metadata { key: "encoding" value: "json/plain" } data: "\"k\"" } }
     indexed_fields { key: "CustomIntField" value { metadata { key: "encoding" value: "json/plain" } metadata { key: "type" value: "Int" } data: "42" } }
     indexed_fields { key: "CustomKeywordListField" value { metadata { key: "encoding" value: "json/plain" } data: "[\"a\",\"b\"]" } }'
  enc request_values '\x02' temporal.api.common.v1.Payload temporal/api/common/v1/message.proto \
    'metadata { key: "encoding" value: "json/plain" } data: "\"2026-03-01T00:00:00Z\""'
  enc request_values '\x02' temporal.api.common.v1.Payload temporal/api/common/v1/message.proto \
    'metadata { key: "encoding" value: "binary/null" }'
fi
lit request_values '\x02' '[1.5, true, "x"]'
lit request_values '\x02' '9223372036854775807'
# --- whole RPCs (rpc_request): the first byte is the method's index, WorkflowService's methods
# in service.proto order, then OperatorService's; then the request in wire format.
if [ -d "$protos" ] && command -v protoc >/dev/null; then
  ws="$protos/temporal/api/workflowservice/v1/service.proto"
  os="$protos/temporal/api/operatorservice/v1/service.proto"
  mapfile -t rpcs < <( { grep -o '^ *rpc [A-Za-z]*' "$ws"; grep -o '^ *rpc [A-Za-z]*' "$os"; } | awk '{print $2}')
  rpc() {  # rpc <method> <text of its request>
    local i svc file
    for i in "${!rpcs[@]}"; do [ "${rpcs[$i]}" = "$1" ] && break; done
    if grep -q "rpc $1 *(" "$ws"; then svc=workflowservice; else svc=operatorservice; fi
    file="temporal/api/$svc/v1/request_response.proto"
    enc rpc_request "\\x$(printf '%02x' "$i")" "temporal.api.$svc.v1.$1Request" "$file" "$2"
  }
  for m in "${rpcs[@]}"; do  # every method with an empty request
    rpc "$m" ''
  done
  start='namespace: "default" workflow_id: "wf-1" workflow_type { name: "greet" } task_queue { name: "tq" } request_id: "r-1"
    input { payloads { metadata { key: "encoding" value: "json/plain" } data: "\"x\"" } }
    workflow_execution_timeout { seconds: 60 } workflow_task_timeout { seconds: 10 }
    retry_policy { initial_interval { seconds: 1 } backoff_coefficient: 2 maximum_attempts: 3 }
    memo { fields { key: "m" value { metadata { key: "encoding" value: "json/plain" } data: "1" } } }
    search_attributes { indexed_fields { key: "CustomKeywordField" value { metadata { key: "encoding" value: "json/plain" } data: "\"k\"" } } }'
  rpc StartWorkflowExecution "$start"
  rpc StartWorkflowExecution 'namespace: "default" workflow_id: "cron-1" workflow_type { name: "greet" } task_queue { name: "tq" } cron_schedule: "*/5 * * * *" workflow_id_reuse_policy: WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE'
  rpc SignalWithStartWorkflowExecution 'namespace: "default" workflow_id: "wf-2" workflow_type { name: "greet" } task_queue { name: "tq" } signal_name: "go" signal_input { payloads { data: "1" } }'
  rpc SignalWorkflowExecution 'namespace: "default" workflow_execution { workflow_id: "wf-1" } signal_name: "go" request_id: "s-1"'
  rpc QueryWorkflow 'namespace: "default" execution { workflow_id: "wf-1" } query { query_type: "state" }'
  rpc DescribeWorkflowExecution 'namespace: "default" execution { workflow_id: "wf-1" }'
  rpc GetWorkflowExecutionHistory 'namespace: "default" execution { workflow_id: "wf-1" } maximum_page_size: 10'
  rpc TerminateWorkflowExecution 'namespace: "default" workflow_execution { workflow_id: "wf-1" } reason: "fuzz"'
  rpc RequestCancelWorkflowExecution 'namespace: "default" workflow_execution { workflow_id: "wf-2" } request_id: "c-1"'
  rpc ResetWorkflowExecution 'namespace: "default" workflow_execution { workflow_id: "wf-1" } workflow_task_finish_event_id: 4 request_id: "x-1"'
  rpc DeleteWorkflowExecution 'namespace: "default" workflow_execution { workflow_id: "wf-1" }'
  rpc ListWorkflowExecutions 'namespace: "default" page_size: 5 query: "WorkflowType = '"'"'greet'"'"' AND ExecutionStatus = '"'"'Running'"'"' ORDER BY StartTime DESC"'
  rpc CountWorkflowExecutions 'namespace: "default" query: "CustomKeywordField = '"'"'k'"'"' GROUP BY ExecutionStatus"'
  rpc PollWorkflowTaskQueue 'namespace: "default" task_queue { name: "tq" } identity: "fuzz"'
  rpc PollActivityTaskQueue 'namespace: "default" task_queue { name: "tq" } identity: "fuzz"'
  rpc RespondWorkflowTaskCompleted 'task_token: "\x0a\x02ns" identity: "fuzz" commands { command_type: COMMAND_TYPE_START_TIMER start_timer_command_attributes { timer_id: "t" start_to_fire_timeout { seconds: 1 } } }'
  rpc RespondActivityTaskFailed 'task_token: "\x08\x02" failure { message: "boom" application_failure_info { type: "E" non_retryable: true } }'
  rpc RecordActivityTaskHeartbeat 'task_token: "x" details { payloads { data: "1" } }'
  rpc UpdateWorkflowExecution 'namespace: "default" workflow_execution { workflow_id: "wf-1" } wait_policy { lifecycle_stage: UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ACCEPTED } request { meta { update_id: "u-1" } input { name: "set" args { payloads { data: "1" } } } }'
  rpc ExecuteMultiOperation "namespace: \"default\" operations { start_workflow { $start } } operations { update_workflow { namespace: \"default\" workflow_execution { workflow_id: \"wf-1\" } request { meta { update_id: \"u-2\" } input { name: \"set\" } } } }"
  rpc RegisterNamespace 'namespace: "fuzz-ns" workflow_execution_retention_period { seconds: 86400 } description: "d"'
  rpc UpdateNamespace 'namespace: "default" update_info { description: "x" } config { workflow_execution_retention_ttl { seconds: 172800 } }'
  rpc DescribeNamespace 'namespace: "default"'
  rpc CreateSchedule 'namespace: "default" schedule_id: "sch-1" request_id: "q-1" schedule { spec { interval { interval { seconds: 300 } } cron_string: "0 12 * * MON-FRI" calendar { hour: "9" day_of_week: "1-5" } timezone_name: "Africa/Johannesburg" } action { start_workflow { workflow_id: "sw" workflow_type { name: "greet" } task_queue { name: "tq" } } } policies { overlap_policy: SCHEDULE_OVERLAP_POLICY_SKIP } }'
  rpc PatchSchedule 'namespace: "default" schedule_id: "sch-1" patch { pause: "fuzz" trigger_immediately { overlap_policy: SCHEDULE_OVERLAP_POLICY_ALLOW_ALL } }'
  rpc StartBatchOperation 'namespace: "default" job_id: "b-1" visibility_query: "WorkflowType = '"'"'greet'"'"'" reason: "r" termination_operation { identity: "fuzz" }'
  rpc DescribeTaskQueue 'namespace: "default" task_queue { name: "tq" } task_queue_type: TASK_QUEUE_TYPE_WORKFLOW'
  rpc AddSearchAttributes 'namespace: "default" search_attributes { key: "FuzzKeyword" value: INDEXED_VALUE_TYPE_KEYWORD }'
  rpc ListSearchAttributes 'namespace: "default"'
  rpc DeleteNamespace 'namespace: "fuzz-ns"'
  # Page tokens (next_page_token), each in the form its decoder expects and a few broken ones:
  # the history's (a TaskToken message: run id and first event id), the visibility lists'
  # ("c:<close_sort>:<start_time>:<run_id>", "o:<offset>" with ORDER BY), the schedules'
  # ("s:<start_time>:<schedule_id>"), the batch jobs' (a decimal offset).
  hist_tok=$(printf 'run_id: "r-1" scheduled_event_id: 3' |
    protoc -I "$protos" -I "$root/src" -I /usr/include --encode=temporalite.state.TaskToken history/state.proto | od -An -v -tx1 | tr -d ' \n' | sed 's/../\\x&/g')
  rpc GetWorkflowExecutionHistory "namespace: \"default\" execution { workflow_id: \"wf-1\" } maximum_page_size: 2 next_page_token: \"$hist_tok\""
  rpc GetWorkflowExecutionHistoryReverse "namespace: \"default\" execution { workflow_id: \"wf-1\" } maximum_page_size: 2 next_page_token: \"$hist_tok\""
  rpc GetWorkflowExecutionHistory 'namespace: "default" execution { workflow_id: "wf-1" } next_page_token: "\x22\x00"'
  rpc ListWorkflowExecutions 'namespace: "default" page_size: 1 next_page_token: "c:0:1767225600000000000:run-1"'
  rpc ListWorkflowExecutions 'namespace: "default" page_size: 1 next_page_token: "c:-9223372036854775808:x:"'
  rpc ListWorkflowExecutions 'namespace: "default" page_size: 1 query: "ORDER BY StartTime DESC" next_page_token: "o:3"'
  rpc ListWorkflowExecutions 'namespace: "default" page_size: 2 query: "ORDER BY StartTime" next_page_token: "o:9223372036854775807"'
  rpc ListOpenWorkflowExecutions 'namespace: "default" maximum_page_size: 1 next_page_token: "c:0:1:r"'
  rpc ListClosedWorkflowExecutions 'namespace: "default" maximum_page_size: 1 next_page_token: "o:1"'
  rpc ScanWorkflowExecutions 'namespace: "default" page_size: 1 next_page_token: "c:1:2:r-1"'
  rpc ListSchedules 'namespace: "default" maximum_page_size: 1 next_page_token: "s:1767225600000000000:sch-1"'
  rpc ListSchedules 'namespace: "default" maximum_page_size: 1 next_page_token: "s:99999999999999999999:"'
  rpc ListBatchOperations 'namespace: "default" page_size: 1 next_page_token: "1"'
  rpc ListBatchOperations 'namespace: "default" page_size: 1 next_page_token: "-1"'
fi
# --- libFuzzer dictionary for http_transcode (scripts/fuzz.sh passes <out>/<target>.dict): the
# path segments of every route of the two services (from their google.api.http options), methods
# and query keys, so mutations reach more routes than the seeds' few.
if [ -d "$protos" ]; then
  {
    printf '"%s"\n' GET POST DELETE PATCH PUT /api/v1/ /api/v1/namespaces/default/ pageSize= nextPageToken= query= \
      waitNewEvent= runId= "%2F" "%20" '{\"' '\":\"' '\"}' true null
    sed -nE 's/^ *(get|post|delete|put|patch): "(\/api\/[^"]*)".*/\2/p' \
      "$protos/temporal/api/workflowservice/v1/service.proto" "$protos/temporal/api/operatorservice/v1/service.proto" |
      tr '/' '\n' | grep -v '^$' | sed -E 's/^\{([^}=]*)(=.*)?\}$/x/' | sort -u | sed 's/.*/"\/&"/'
  } > "$out/http_transcode.dict"
fi
echo "seeds: $n files in $out" >&2
