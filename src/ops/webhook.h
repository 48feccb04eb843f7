// POSTing JSON to a webhook (Slack's incoming webhooks by default) over libcurl.
#pragma once

#include <string>

#include "common/status.h"

namespace temporalite::ops {

// One POST of `json` to `url`; OK on a 2xx answer. UNAVAILABLE (retryable) on network errors,
// 5xx and 429; FAILED_PRECONDITION on other answers.
Status PostJson(const std::string& url, const std::string& json);

// Slack incoming-webhook payload {"text": ...}.
std::string SlackText(const std::string& text);

}  // namespace temporalite::ops
