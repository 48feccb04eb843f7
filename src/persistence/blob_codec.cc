#include "persistence/blob_codec.h"

#include <zdict.h>
#include <zstd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <thread>

#include "common/log.h"

namespace temporalite::persistence {
namespace {

constexpr char kEscape = '\x00';
constexpr char kRaw = '\x00';
constexpr char kZstd = '\x01';
constexpr int kLevel = 1;  // small records: level 1 compresses them nearly as well as 3, faster

void PutVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

bool GetVarint(std::string_view* in, uint64_t* v) {
  *v = 0;
  for (int shift = 0; shift < 64 && !in->empty(); shift += 7) {
    auto byte = static_cast<unsigned char>(in->front());
    in->remove_prefix(1);
    *v |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return true;
  }
  return false;
}

struct DCtxDeleter {
  void operator()(ZSTD_DCtx* c) const { ZSTD_freeDCtx(c); }
};

Status Corrupt(const std::string& what) {
  return Status(Code::kDataLoss, "stored blob is damaged: " + what);
}

}  // namespace

std::string EncodeRaw(std::string_view raw) {
  if (raw.empty() || raw[0] != kEscape) return std::string(raw);
  std::string out;
  out.reserve(raw.size() + 2);
  out.push_back(kEscape);
  out.push_back(kRaw);
  out.append(raw);
  return out;
}

void AppendEvent(std::string* payload, std::string_view event) {
  PutVarint(payload, event.size());
  payload->append(event);
}

bool SplitEvents(std::string_view payload, std::vector<std::string>* events) {
  while (!payload.empty()) {
    uint64_t n = 0;
    if (!GetVarint(&payload, &n) || n > payload.size()) return false;
    events->emplace_back(payload.substr(0, n));
    payload.remove_prefix(n);
  }
  return true;
}

// ------------------------------------------------------------------------------------------------

struct DictionaryCache::Dict {
  ZSTD_DDict* ddict = nullptr;
  ~Dict() { ZSTD_freeDDict(ddict); }
};

DictionaryCache::DictionaryCache() = default;
DictionaryCache::~DictionaryCache() = default;

void DictionaryCache::Add(int64_t id, const std::string& dictionary) {
  auto d = std::make_shared<Dict>();
  d->ddict = ZSTD_createDDict(dictionary.data(), dictionary.size());
  std::lock_guard<std::mutex> l(mu_);
  dicts_[id] = std::move(d);
}

Result<std::string> DictionaryCache::Decode(std::string_view stored, const Loader& load) {
  if (stored.empty() || stored[0] != kEscape) return std::string(stored);
  if (stored.size() < 2) return Corrupt("truncated header");
  if (stored[1] == kRaw) return std::string(stored.substr(2));
  if (stored[1] != kZstd) return Corrupt("unknown encoding");
  std::string_view rest = stored.substr(2);
  uint64_t id = 0;
  if (!GetVarint(&rest, &id)) return Corrupt("truncated dictionary id");
  std::shared_ptr<Dict> dict;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = dicts_.find(static_cast<int64_t>(id));
    if (it != dicts_.end()) dict = it->second;
  }
  if (!dict) {
    Result<std::optional<std::string>> bytes = load(static_cast<int64_t>(id));
    if (!bytes.ok()) return bytes.status();
    if (!bytes->has_value()) return Corrupt("dictionary " + std::to_string(id) + " is missing");
    Add(static_cast<int64_t>(id), **bytes);
    std::lock_guard<std::mutex> l(mu_);
    dict = dicts_[static_cast<int64_t>(id)];
  }
  if (dict->ddict == nullptr) return Corrupt("dictionary " + std::to_string(id) + " is unusable");
  unsigned long long size = ZSTD_getFrameContentSize(rest.data(), rest.size());
  if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN || size > (1ull << 31)) {
    return Corrupt("bad frame header");
  }
  thread_local std::unique_ptr<ZSTD_DCtx, DCtxDeleter> dctx(ZSTD_createDCtx());
  std::string out(size, '\0');
  size_t n = ZSTD_decompress_usingDDict(dctx.get(), out.data(), out.size(), rest.data(), rest.size(), dict->ddict);
  if (ZSTD_isError(n) || n != size) return Corrupt(ZSTD_isError(n) ? ZSTD_getErrorName(n) : "short frame");
  return out;
}

// ------------------------------------------------------------------------------------------------

namespace {

std::mutex hook_mu;
std::function<void()>& TrainingHook() {
  static std::function<void()> hook;
  return hook;
}

// Bytes the samples [from, sizes.size()) take compressed with `dictionary` (raw when that is not
// smaller, as Encode stores them).
size_t CompressedSize(const std::string& dictionary, const std::string& samples, const std::vector<size_t>& sizes,
                      size_t from) {
  ZSTD_CDict* cdict = ZSTD_createCDict(dictionary.data(), dictionary.size(), kLevel);
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  size_t offset = 0, total = 0;
  std::string out;
  for (size_t i = 0; i < sizes.size(); offset += sizes[i], ++i) {
    if (i < from) continue;
    out.resize(ZSTD_compressBound(sizes[i]));
    size_t n = cdict == nullptr || cctx == nullptr
                   ? sizes[i]
                   : ZSTD_compress_usingCDict(cctx, out.data(), out.size(), samples.data() + offset, sizes[i], cdict);
    total += ZSTD_isError(n) ? sizes[i] : std::min(n, sizes[i]);
  }
  ZSTD_freeCCtx(cctx);
  ZSTD_freeCDict(cdict);
  return total;
}

// The training itself, on the trainer's thread. Without `current` (the first dictionary) it trains
// on all samples and always returns a dictionary; with one it holds the last fifth of the samples
// out and returns the new dictionary only if it compresses those by policy.retrain_min_gain better.
std::optional<std::string> Train(const std::string& samples, const std::vector<size_t>& sizes,
                                 const DictionaryPolicy& policy, const std::string& current) {
  {
    std::lock_guard<std::mutex> l(hook_mu);
    if (TrainingHook()) TrainingHook()();
  }
  // Crash tests: widens the window in which commits go on while a training is in progress.
  if (const char* delay = std::getenv("TEMPORALITE_TEST_DICTIONARY_TRAINING_DELAY_MS")) {
    std::this_thread::sleep_for(std::chrono::milliseconds(std::atoi(delay)));
  }
  const auto start = std::chrono::steady_clock::now();
  const size_t held_out = current.empty() ? 0 : std::max<size_t>(1, sizes.size() / 5);
  const size_t n_train = sizes.size() - held_out;
  std::string dict(policy.dictionary_bytes, '\0');
  size_t n = ZDICT_trainFromBuffer(dict.data(), dict.size(), samples.data(), sizes.data(), static_cast<unsigned>(n_train));
  if (ZDICT_isError(n) && !current.empty()) {
    TL_LOG_INFO("zstd dictionary retraining: %s; the current dictionary stays", ZDICT_getErrorName(n));
    return std::nullopt;
  }
  if (ZDICT_isError(n)) {
    // Too uniform or too few samples to train on: the most recent samples as raw content work too.
    TL_LOG_INFO("zstd dictionary training: %s; using raw samples", ZDICT_getErrorName(n));
    dict = samples.substr(samples.size() - std::min(samples.size(), policy.dictionary_bytes));
  } else {
    dict.resize(n);
  }
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  if (current.empty()) {
    TL_LOG_INFO("zstd dictionary trained in the background: %zu bytes from %zu samples in %.0f ms", dict.size(),
                sizes.size(), ms);
    return dict;
  }
  const size_t with_new = CompressedSize(dict, samples, sizes, n_train);
  const size_t with_current = CompressedSize(current, samples, sizes, n_train);
  const bool better = static_cast<double>(with_new) <= static_cast<double>(with_current) * (1.0 - policy.retrain_min_gain);
  TL_LOG_INFO("zstd dictionary retrained in the background in %.0f ms: %zu held-out samples take %zu bytes with it, "
              "%zu with the current one: %s",
              ms, held_out, with_new, with_current, better ? "adopted" : "the current one stays");
  if (!better) return std::nullopt;
  return dict;
}

}  // namespace

void SetDictionaryTrainingHookForTesting(std::function<void()> hook) {
  std::lock_guard<std::mutex> l(hook_mu);
  TrainingHook() = std::move(hook);
}

struct BlobEncoder::Impl {
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ZSTD_CDict* cdict = nullptr;
  ~Impl() {
    ZSTD_freeCDict(cdict);
    ZSTD_freeCCtx(cctx);
  }
};

struct BlobEncoder::Trainer {
  std::thread thread;
  std::atomic<bool> ready{false};
  std::optional<std::string> result;  // written by `thread` before it sets `ready`
  ~Trainer() {
    if (thread.joinable()) thread.join();
  }
};

BlobEncoder::BlobEncoder(DictionaryPolicy policy) : policy_(policy), impl_(std::make_unique<Impl>()) {
  // The dictionary id is in the stored header; the frame need not repeat it.
  ZSTD_CCtx_setParameter(impl_->cctx, ZSTD_c_dictIDFlag, 0);
  ZSTD_CCtx_setParameter(impl_->cctx, ZSTD_c_checksumFlag, 0);
}

BlobEncoder::~BlobEncoder() = default;

void BlobEncoder::SetDictionary(int64_t id, const std::string& dictionary) {
  ZSTD_CDict* cdict = ZSTD_createCDict(dictionary.data(), dictionary.size(), kLevel);
  if (cdict == nullptr) return;
  ZSTD_freeCDict(impl_->cdict);
  impl_->cdict = cdict;
  ZSTD_CCtx_refCDict(impl_->cctx, cdict);
  dict_id_ = id;
  dict_bytes_ = dictionary;
  // Only the database's first dictionary is retrained (once); a training in progress (none at
  // open) keeps its phase until TakeTrained.
  if (phase_ != Phase::kTraining) phase_ = id == 1 ? Phase::kWaitRetrain : Phase::kDone;
  encoded_since_dictionary_ = 0;
  samples_.clear();
  samples_.shrink_to_fit();
  sample_sizes_.clear();
  sample_sizes_.shrink_to_fit();
}

void BlobEncoder::Sample(std::string_view raw) {
  switch (phase_) {
    case Phase::kWaitRetrain:
      encoded_since_dictionary_ += raw.size();
      if (encoded_since_dictionary_ >= policy_.retrain_after_bytes) phase_ = Phase::kCollectRetrain;
      return;
    case Phase::kCollectRetrain:
      if (++blobs_seen_ % std::max(1u, policy_.retrain_stride) != 0) return;
      break;
    case Phase::kCollectFirst:
      break;
    case Phase::kTraining:
    case Phase::kDone:
      return;
  }
  if (raw.size() < 8) return;
  samples_.append(raw);
  sample_sizes_.push_back(raw.size());
  if (samples_.size() >= policy_.sample_bytes) StartTraining();
}

void BlobEncoder::StartTraining() {
  TL_LOG_INFO("zstd dictionary %s started in the background (%zu samples, %zu bytes)",
              has_dictionary() ? "retraining" : "training", sample_sizes_.size(), samples_.size());
  phase_ = Phase::kTraining;
  trainer_ = std::make_unique<Trainer>();
  Trainer* t = trainer_.get();
  t->thread = std::thread([t, samples = std::move(samples_), sizes = std::move(sample_sizes_), policy = policy_,
                           current = dict_bytes_] {
    t->result = Train(samples, sizes, policy, current);
    t->ready.store(true, std::memory_order_release);
  });
  samples_.clear();
  sample_sizes_.clear();
}

std::optional<std::string> BlobEncoder::TakeTrained() {
  if (!trainer_ || !trainer_->ready.load(std::memory_order_acquire)) return std::nullopt;
  if (trainer_->thread.joinable()) trainer_->thread.join();
  std::optional<std::string> dict = std::move(trainer_->result);
  trainer_.reset();
  // A first dictionary leads to one retraining later (SetDictionary with id 1); a retrained
  // one, adopted or not, is the last in this process.
  phase_ = has_dictionary() || !dict ? Phase::kDone : Phase::kWaitRetrain;
  return dict;
}


std::string BlobEncoder::Encode(std::string_view raw) {
  if (!has_dictionary() || raw.size() < 16) return EncodeRaw(raw);
  std::string out;
  out.push_back(kEscape);
  out.push_back(kZstd);
  PutVarint(&out, static_cast<uint64_t>(dict_id_));
  size_t header = out.size();
  out.resize(header + ZSTD_compressBound(raw.size()));
  size_t n = ZSTD_compress2(impl_->cctx, out.data() + header, out.size() - header, raw.data(), raw.size());
  if (ZSTD_isError(n) || header + n >= raw.size()) return EncodeRaw(raw);
  out.resize(header + n);
  return out;
}

}  // namespace temporalite::persistence
