// A small metrics registry: counters, gauges and histograms with labels, exposed in Prometheus'
// text format. It depends on nothing else of the project; the frontend, engine and store get a
// Registry* (nullptr: metrics off) from the composition root.
//
// Cost: updating a metric is one or two relaxed atomic operations. Finding a metric by name and
// labels takes the registry's mutex, so hot paths look metrics up once and keep the reference
// (references stay valid for the registry's lifetime); per-label lookups happen at most once per
// closed workflow or schedule action.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace temporalite::metrics {

using Labels = std::vector<std::pair<std::string, std::string>>;

class Counter {
 public:
  void Inc(uint64_t n = 1) { v_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> v_{0};
};

class Gauge {
 public:
  void Set(double v) { v_.store(v, std::memory_order_relaxed); }
  void Add(double v) { v_.fetch_add(v, std::memory_order_relaxed); }
  double value() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> v_{0};
};

// Cumulative buckets by upper bound (Prometheus' le), plus sum and count.
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void Observe(double v);
  const std::vector<double>& bounds() const { return bounds_; }
  uint64_t bucket(size_t i) const { return buckets_[i].load(std::memory_order_relaxed); }  // non-cumulative
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  double sum() const { return sum_.load(std::memory_order_relaxed); }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // bounds_.size() + 1 (the last is +Inf)
  std::atomic<uint64_t> count_{0};
  std::atomic<double> sum_{0};
};

// Latency buckets in seconds (1 ms .. 60 s) and size buckets (1 .. 1024).
const std::vector<double>& LatencyBuckets();
const std::vector<double>& SizeBuckets();

class Registry {
 public:
  // The metric `name` with `labels` (created on first use). A name has one type and one help
  // text (the first given). Thread-safe; the reference is valid for the registry's lifetime.
  Counter& counter(std::string_view name, std::string_view help, const Labels& labels = {});
  Gauge& gauge(std::string_view name, std::string_view help, const Labels& labels = {});
  Histogram& histogram(std::string_view name, std::string_view help, const Labels& labels = {},
                       const std::vector<double>& bounds = LatencyBuckets());

  // Runs before every exposition (e.g. to read file sizes into gauges). Set up before serving.
  void AddCollector(std::function<void(Registry&)> collect);

  // Prometheus text exposition format 0.0.4. Counters are exposed as <name>_total.
  std::string Expose();

 private:
  enum class Type { kCounter, kGauge, kHistogram };
  struct Family {
    Type type;
    std::string help;
    std::map<Labels, std::unique_ptr<Counter>> counters;
    std::map<Labels, std::unique_ptr<Gauge>> gauges;
    std::map<Labels, std::unique_ptr<Histogram>> histograms;
  };
  Family& FamilyLocked(std::string_view name, std::string_view help, Type type);

  std::mutex mu_;
  std::map<std::string, Family, std::less<>> families_;
  std::vector<std::function<void(Registry&)>> collectors_;
};

}  // namespace temporalite::metrics
