// How the SQLite store keeps its blobs (history batches, execution states, visibility infos):
// zstd with a dictionary trained on this database's own first blobs (kept in its `dictionaries`
// table), so the workflow types, task queues, identities and field layouts every record repeats
// cost a few bytes each. Internal to the store.
//
// Stored form of a blob b:
//   b itself                     if b is empty or b[0] != 0x00 (a protobuf never starts with 0x00)
//   0x00 0x00 b                  raw, escaped (b starts with 0x00)
//   0x00 0x01 varint(dict) zstd  a zstd frame compressed with dictionary `dict`
// Blobs written before schema version 5 are the first form, so they read unchanged.
//
// A history row holds the events one commit appended to one run: varint(length) + bytes per
// event, in event id order, stored in the form above.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace temporalite::persistence {

// Decoding side, shared by every connection of a store: dictionaries by id, loaded on first use.
class DictionaryCache {
 public:
  using Loader = std::function<Result<std::optional<std::string>>(int64_t id)>;
  DictionaryCache();
  ~DictionaryCache();
  // The plain bytes of a stored blob. `load` fetches a dictionary not seen yet.
  Result<std::string> Decode(std::string_view stored, const Loader& load);
  void Add(int64_t id, const std::string& dictionary);

 private:
  struct Dict;
  std::mutex mu_;
  std::map<int64_t, std::shared_ptr<Dict>> dicts_;
};

// When and on what dictionaries are trained (the defaults; tests shrink them).
struct DictionaryPolicy {
  size_t sample_bytes = 256 * 1024;  // training input
  size_t dictionary_bytes = 16 * 1024;
  // Once: after this many raw bytes were encoded with the database's first dictionary, every
  // `retrain_stride`-th blob is a sample for a second one, which replaces the first only if it
  // compresses held-out samples (the last fifth, not trained on) by `retrain_min_gain` better.
  uint64_t retrain_after_bytes = uint64_t{16} << 20;
  unsigned retrain_stride = 4;
  double retrain_min_gain = 0.05;
};

// Encoding side, the writer thread's only. Until it has a dictionary it stores blobs raw and keeps
// samples of them; with enough it trains one (ZDICT) on a thread of its own, so no commit waits
// for the training: blobs stay raw (or on the old dictionary) meanwhile. TakeTrained hands the
// result over; the caller must store it (in the same transaction as the first blob compressed
// with it) and call SetDictionary before using Encode's output.
class BlobEncoder {
 public:
  explicit BlobEncoder(DictionaryPolicy policy = {});
  ~BlobEncoder();  // waits for a training in progress
  BlobEncoder(const BlobEncoder&) = delete;
  BlobEncoder& operator=(const BlobEncoder&) = delete;

  // Use dictionary `id` (at open: the newest stored one; later: TakeTrained's, stored).
  void SetDictionary(int64_t id, const std::string& dictionary);
  bool has_dictionary() const { return dict_id_ != 0; }
  // Keeps `raw` as a training sample when the policy wants one; starts the training in the
  // background once there are enough.
  void Sample(std::string_view raw);
  // A finished training's dictionary, once (nothing while training, or when a retrained one was
  // no better than the current: then no more training in this process).
  std::optional<std::string> TakeTrained();
  // A training was started and TakeTrained has not yet taken its result.
  bool training() const { return trainer_ != nullptr; }
  // The stored form of `raw` (compressed when that is smaller).
  std::string Encode(std::string_view raw);

 private:
  enum class Phase { kCollectFirst, kTraining, kWaitRetrain, kCollectRetrain, kDone };
  void StartTraining();
  struct Impl;
  struct Trainer;
  const DictionaryPolicy policy_;
  std::unique_ptr<Impl> impl_;
  std::unique_ptr<Trainer> trainer_;
  int64_t dict_id_ = 0;
  std::string dict_bytes_;  // the current dictionary (a retraining is compared with it)
  Phase phase_ = Phase::kCollectFirst;
  uint64_t encoded_since_dictionary_ = 0;  // raw bytes (kWaitRetrain)
  uint64_t blobs_seen_ = 0;                // kCollectRetrain's stride
  std::string samples_;
  std::vector<size_t> sample_sizes_;
};

// Tests: called on the training thread before each training (e.g. to hold it while commits go
// on); nullptr for none.
void SetDictionaryTrainingHookForTesting(std::function<void()> hook);

// The stored form of `raw` without compression.
std::string EncodeRaw(std::string_view raw);
// A history row's plain payload: the events' bytes, length-prefixed.
void AppendEvent(std::string* payload, std::string_view event);
// Splits a plain payload back into events (false: malformed).
bool SplitEvents(std::string_view payload, std::vector<std::string>* events);

}  // namespace temporalite::persistence
