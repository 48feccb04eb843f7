#include "persistence/blob_codec.h"

#include <zdict.h>
#include <zstd.h>

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

struct BlobEncoder::Impl {
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ZSTD_CDict* cdict = nullptr;
  ~Impl() {
    ZSTD_freeCDict(cdict);
    ZSTD_freeCCtx(cctx);
  }
};

BlobEncoder::BlobEncoder() : impl_(std::make_unique<Impl>()) {
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
  samples_.clear();
  samples_.shrink_to_fit();
  sample_sizes_.clear();
  sample_sizes_.shrink_to_fit();
}

std::optional<std::string> BlobEncoder::Sample(std::string_view raw) {
  if (has_dictionary() || raw.size() < 8) return std::nullopt;
  samples_.append(raw);
  sample_sizes_.push_back(raw.size());
  if (samples_.size() < kSampleBytes) return std::nullopt;
  std::string dict(kDictionaryBytes, '\0');
  size_t n = ZDICT_trainFromBuffer(dict.data(), dict.size(), samples_.data(), sample_sizes_.data(),
                                   static_cast<unsigned>(sample_sizes_.size()));
  if (ZDICT_isError(n)) {
    // Too uniform or too few samples to train on: the most recent samples as raw content work too.
    TL_LOG_INFO("zstd dictionary training: %s; using raw samples", ZDICT_getErrorName(n));
    dict = samples_.substr(samples_.size() - kDictionaryBytes);
  } else {
    dict.resize(n);
  }
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
