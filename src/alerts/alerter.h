// Failure alerts on the server: after N consecutive failed (or timed-out) runs of a workflow type
// or of a schedule, one webhook message per streak, and one recovery message when a run of it
// succeeds again.
//
// Durability without touching the engine's transactions: closes are read back from visibility
// (written in the same transaction as each close) in close order after a cursor, so nothing
// closed is missed across a crash. The cursor, the streaks and the outbox of undelivered messages
// are saved together as one row of the database's server_state table (a durable commit) before
// anything is sent, so they are in backups and come back with a restore; a message leaves the outbox only after the webhook accepted it, and is retried
// with exponential backoff (1 s .. 60 s) until then, in order. Replaying closes from an older
// cursor after a crash recomputes the same streaks, so no alert is lost and none is queued twice.
// (A crash between the webhook's 2xx and the save can resend that one message: at least once.)
// Earlier versions kept this record in a side file (alerts-state.json next to the database): Load
// moves it into the database once and renames the file to alerts-state.json.migrated.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "common/clock.h"
#include "common/status.h"
#include "persistence/store.h"

namespace temporalite::alerts {

struct AlerterOptions {
  int alert_after = 2;     // consecutive failures that make an alert
  // The side file of earlier versions, migrated into the database by Load if present ("": none).
  std::string legacy_state_path;
  std::chrono::milliseconds poll_interval{1000};
};

class Alerter {
 public:
  // `post` sends one JSON message to the webhook; UNAVAILABLE (or any error) means "retry later".
  using PostFn = std::function<Status(const std::string& json)>;
  Alerter(persistence::Store& store, const Clock& clock, AlerterOptions options, PostFn post);

  // The server_state key of the alerter's record.
  static constexpr const char* kStateKey = "alerts";
  // Loads the record from the database (migrating a legacy side file first); none starts from
  // "now": history is not alerted on.
  Status Load();
  // Processes closes and delivers the outbox until Stop(). Runs on a thread made by main.
  void Run();
  void Stop();
  // A run closed (from the engine's listener): look at visibility now rather than at the next tick.
  void Nudge();

 private:
  struct Streak {
    int failures = 0;
    bool alerted = false;
  };
  struct Cursor {
    int64_t close_time = 0;
    std::string run_id;
  };
  Status ProcessNewCloses();
  void Observe(const std::string& key, const std::string& label, bool failed, const std::string& run_desc);
  Status Save();
  Status Parse(const std::string& text, const std::string& where);
  void Deliver();

  persistence::Store& store_;
  const Clock& clock_;
  const AlerterOptions options_;
  PostFn post_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool nudged_ = false;

  // Worker-thread state (also read by Load before Run).
  std::map<std::string, Cursor> cursors_;  // by namespace id
  std::map<std::string, Streak> streaks_;  // "type:<ns>/<type>" or "schedule:<ns>/<id>"
  std::deque<std::string> outbox_;         // JSON messages, oldest first
  int64_t start_time_ = 0;                 // closes before this are history (first start)
  int retry_attempt_ = 0;
  TimePoint next_delivery_{};
};

}  // namespace temporalite::alerts
