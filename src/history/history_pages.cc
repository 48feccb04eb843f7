// The history pages and the history long poll (history_pages.h).
#include "history/history_pages.h"

#include <algorithm>
#include <mutex>

#include "history/state.pb.h"

namespace temporalite::history {

namespace wsv1 = ::temporal::api::workflowservice::v1;
namespace ev1 = ::temporal::api::enums::v1;

namespace {

constexpr int64_t kDefaultPageSize = 256;

int64_t PageSize(int32_t requested) { return requested > 0 ? requested : kDefaultPageSize; }

// A page of the run's history from `first_event_id`; `closed` tells whether the run is closed
// (read only when the page reaches the end).
Status ReadForwardPage(HistoryReads& reads, const std::string& run_id, const wsv1::GetWorkflowExecutionHistoryRequest& req,
                       int64_t first_event_id, wsv1::GetWorkflowExecutionHistoryResponse* resp, bool* closed) {
  const int64_t page = PageSize(req.maximum_page_size());
  auto rows = reads.ReadEvents(run_id, first_event_id, page + 1);
  if (!rows.ok()) return rows.status();
  const int64_t n = std::min<int64_t>(page, static_cast<int64_t>(rows->size()));
  for (int64_t i = 0; i < n; ++i) resp->mutable_history()->add_events()->ParseFromString(rows.value()[i].data);
  const bool more = static_cast<int64_t>(rows->size()) > page;
  *closed = false;
  if (!more) {
    auto ex = reads.GetExecution(run_id);
    if (!ex.ok()) return ex.status();
    *closed = ex.value() && !ex.value()->open;
  }
  if (more || (!*closed && req.wait_new_event())) {
    resp->set_next_page_token(HistoryPageToken({run_id, first_event_id + n}));
  }
  return Status::Ok();
}

// HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT: the run's closing event once it is closed.
Status ReadCloseEvent(HistoryReads& reads, const std::string& run_id, const wsv1::GetWorkflowExecutionHistoryRequest& req,
                      int64_t first_event_id, wsv1::GetWorkflowExecutionHistoryResponse* resp, bool* closed) {
  auto row = reads.GetExecution(run_id);
  if (!row.ok()) return row.status();
  *closed = row.value() && !row.value()->open;
  if (*closed) {
    state::ExecutionState st;
    st.ParseFromString(row.value()->state);
    auto ev = reads.ReadEvents(run_id, st.completion_event_id(), 1);
    if (!ev.ok()) return ev.status();
    if (!ev->empty()) resp->mutable_history()->add_events()->ParseFromString(ev.value()[0].data);
  } else if (req.wait_new_event()) {
    resp->set_next_page_token(HistoryPageToken({run_id, first_event_id}));
  }
  return Status::Ok();
}

}  // namespace

// --- HistoryCommits ---

uint64_t HistoryCommits::Wait(const std::string& run_id, std::function<void(bool)> fn) {
  MutexLock l(mu_);
  const uint64_t id = ++next_id_;
  waiters_[run_id].emplace_back(id, std::move(fn));
  return id;
}

void HistoryCommits::StopWaiting(const std::string& run_id, uint64_t id) {
  std::function<void(bool)> dropped;  // destroyed after the lock: it may hold the last reference to a poll
  MutexLock l(mu_);
  auto it = waiters_.find(run_id);
  if (it == waiters_.end()) return;
  auto& list = it->second;
  for (auto w = list.begin(); w != list.end(); ++w) {
    if (w->first != id) continue;
    dropped = std::move(w->second);
    list.erase(w);
    break;
  }
  if (list.empty()) waiters_.erase(it);
}

void HistoryCommits::Notify(const std::string& run_id, bool closed) {
  std::vector<std::pair<uint64_t, std::function<void(bool)>>> woken;
  {
    MutexLock l(mu_);
    auto it = waiters_.find(run_id);
    if (it == waiters_.end()) return;
    woken = std::move(it->second);
    waiters_.erase(it);
  }
  for (auto& w : woken) w.second(closed);
}

size_t HistoryCommits::Count() {
  MutexLock l(mu_);
  size_t n = 0;
  for (const auto& [run_id, list] : waiters_) n += list.size();
  return n;
}

// --- page tokens ---

Result<HistoryPosition> ParseHistoryPageToken(const std::string& token, bool forward) {
  state::TaskToken tok;  // the task token record, reused as an opaque page token
  if (!tok.ParseFromString(token) || tok.run_id().empty() || (forward && tok.scheduled_event_id() < 1)) {
    return Status(Code::kInvalidArgument, "Invalid NextPageToken.");
  }
  return HistoryPosition{tok.run_id(), tok.scheduled_event_id()};
}

std::string HistoryPageToken(const HistoryPosition& at) {
  state::TaskToken tok;
  tok.set_run_id(at.run_id);
  tok.set_scheduled_event_id(at.event_id);
  return tok.SerializeAsString();
}

// --- the pages ---

void HistoryPages::Get(const HistoryPosition& at, const wsv1::GetWorkflowExecutionHistoryRequest& req,
                       wsv1::GetWorkflowExecutionHistoryResponse* resp, Done done, std::shared_ptr<CancelHook> cancel) {
  const std::string run_id = at.run_id;
  const int64_t first_event_id = at.event_id;
  const bool close_only = req.history_event_filter_type() == ev1::HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT;
  // A long poll re-reads after each commit that touches the run, until there is something, the
  // deadline, or the caller's cancel. Whichever ends it unregisters its waiter: nothing of it
  // stays behind.
  struct Poll {
    std::mutex mu;
    bool finished = false;
    bool timed_out = false;
    uint64_t waiter_id = 0;  // the registration for the run's next commit, 0 when none
  };
  auto poll = std::make_shared<Poll>();
  HistoryCommits& commits = commits_;
  // Ends the call (under poll->mu, once): drops the waiter still registered, then answers.
  auto finish = [&commits, run_id, poll, done, cancel](const Status& s) {
    poll->finished = true;
    if (poll->waiter_id != 0) commits.StopWaiting(run_id, poll->waiter_id);
    poll->waiter_id = 0;
    done(s);
    if (cancel) cancel->Clear();
  };
  // Returns true when the request was answered.
  HistoryReads& reads = reads_;
  auto try_answer = [&reads, req, resp, run_id, first_event_id, close_only, poll, finish]() -> bool {
    std::lock_guard<std::mutex> l(poll->mu);
    if (poll->finished) return true;
    resp->Clear();
    bool closed = false;
    // A storage error is the answer (not an empty page, nor a wait until the deadline).
    Status s = close_only ? ReadCloseEvent(reads, run_id, req, first_event_id, resp, &closed)
                          : ReadForwardPage(reads, run_id, req, first_event_id, resp, &closed);
    if (!s.ok()) {
      finish(s);
      return true;
    }
    if (resp->history().events_size() == 0 && !closed && req.wait_new_event() && !poll->timed_out) return false;
    finish(Status::Ok());
    return true;
  };
  if (try_answer()) return;
  // A waiter re-registers itself until answered. Only its registration holds it (and whoever
  // runs it): the timer and the cancel hook reach it weakly, so an ended poll frees everything.
  auto wait = std::make_shared<std::function<void()>>();
  std::weak_ptr<std::function<void()>> weak_wait = wait;
  *wait = [&commits, run_id, try_answer, weak_wait, poll] {
    if (try_answer()) return;
    auto self = weak_wait.lock();
    if (!self) return;
    const uint64_t id = commits.Wait(run_id, [self](bool) { (*self)(); });
    {
      std::lock_guard<std::mutex> l(poll->mu);
      if (poll->finished) {
        commits.StopWaiting(run_id, id);
        return;
      }
      poll->waiter_id = id;
    }
    try_answer();  // closes the race with a commit between the read and the registration
  };
  timers_.Schedule(clock_.Now() + long_poll_, [poll, weak_wait] {
    auto w = weak_wait.lock();
    if (!w) return;  // answered or cancelled already
    {
      std::lock_guard<std::mutex> l(poll->mu);
      poll->timed_out = true;
    }
    (*w)();
  });
  if (cancel) {
    cancel->Set([poll, finish] {
      std::lock_guard<std::mutex> l(poll->mu);
      if (poll->finished) return;
      finish(Status(Code::kCancelled, "history long poll cancelled by the caller"));
    });
  }
  (*wait)();
}

Status HistoryPages::GetReverse(const HistoryPosition& at, const wsv1::GetWorkflowExecutionHistoryReverseRequest& req,
                                wsv1::GetWorkflowExecutionHistoryReverseResponse* resp) {
  int64_t last = at.event_id;
  if (last == INT64_MAX) {  // the first page: from the run's last durable event
    auto row = reads_.GetExecution(at.run_id);
    if (!row.ok()) return row.status();
    if (!row.value()) return Status::Ok();
    state::ExecutionState st;
    st.ParseFromString(row.value()->state);
    last = st.next_event_id() - 1;
  }
  if (last < 1) return Status::Ok();
  const int64_t page = PageSize(req.maximum_page_size());
  const int64_t first = std::max<int64_t>(1, last - page + 1);
  auto rows = reads_.ReadEvents(at.run_id, first, last - first + 1);
  if (!rows.ok()) return rows.status();
  for (auto it = rows->rbegin(); it != rows->rend(); ++it) resp->mutable_history()->add_events()->ParseFromString(it->data);
  if (first > 1) resp->set_next_page_token(HistoryPageToken({at.run_id, first - 1}));
  return Status::Ok();
}

}  // namespace temporalite::history
