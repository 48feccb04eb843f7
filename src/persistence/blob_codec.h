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

// Encoding side, the writer thread's only. Until it has a dictionary it stores blobs raw and keeps
// samples of them; with enough it trains one (ZDICT), which the caller must store (in the same
// transaction as the first blob compressed with it) before using Encode's output.
class BlobEncoder {
 public:
  BlobEncoder();
  ~BlobEncoder();
  BlobEncoder(const BlobEncoder&) = delete;
  BlobEncoder& operator=(const BlobEncoder&) = delete;

  // Use dictionary `id` (loaded at open: the newest stored one).
  void SetDictionary(int64_t id, const std::string& dictionary);
  bool has_dictionary() const { return dict_id_ != 0; }
  // Keeps `raw` as a training sample while there is no dictionary. Returns a new dictionary
  // (its bytes) once enough samples are in; the caller stores it under id `next_id` and calls
  // SetDictionary.
  std::optional<std::string> Sample(std::string_view raw);
  // The stored form of `raw` (compressed when that is smaller).
  std::string Encode(std::string_view raw);

  static constexpr size_t kSampleBytes = 256 * 1024;  // training input
  static constexpr size_t kDictionaryBytes = 16 * 1024;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int64_t dict_id_ = 0;
  std::string samples_;
  std::vector<size_t> sample_sizes_;
};

// The stored form of `raw` without compression.
std::string EncodeRaw(std::string_view raw);
// A history row's plain payload: the events' bytes, length-prefixed.
void AppendEvent(std::string* payload, std::string_view event);
// Splits a plain payload back into events (false: malformed).
bool SplitEvents(std::string_view payload, std::vector<std::string>* events);

}  // namespace temporalite::persistence
