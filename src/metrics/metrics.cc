#include "metrics/metrics.h"

#include <cmath>
#include <cstdio>

namespace temporalite::metrics {

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), buckets_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0);
}

void Histogram::Observe(double v) {
  size_t i = 0;
  while (i < bounds_.size() && v > bounds_[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

const std::vector<double>& LatencyBuckets() {
  static const std::vector<double> kBounds = {0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1,
                                              0.25,  0.5,   1,     2.5,  5,     10,   30, 60};
  return kBounds;
}

const std::vector<double>& SizeBuckets() {
  static const std::vector<double> kBounds = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024};
  return kBounds;
}

Registry::Family& Registry::FamilyLocked(std::string_view name, std::string_view help, Type type) {
  auto it = families_.find(name);
  if (it == families_.end()) {
    it = families_.emplace(std::string(name), Family{type, std::string(help), {}, {}, {}}).first;
  }
  return it->second;
}

Counter& Registry::counter(std::string_view name, std::string_view help, const Labels& labels) {
  std::lock_guard<std::mutex> l(mu_);
  auto& slot = FamilyLocked(name, help, Type::kCounter).counters[labels];
  if (!slot) slot = std::make_unique<Counter>();
  return *slot;
}

Gauge& Registry::gauge(std::string_view name, std::string_view help, const Labels& labels) {
  std::lock_guard<std::mutex> l(mu_);
  auto& slot = FamilyLocked(name, help, Type::kGauge).gauges[labels];
  if (!slot) slot = std::make_unique<Gauge>();
  return *slot;
}

Histogram& Registry::histogram(std::string_view name, std::string_view help, const Labels& labels,
                               const std::vector<double>& bounds) {
  std::lock_guard<std::mutex> l(mu_);
  auto& slot = FamilyLocked(name, help, Type::kHistogram).histograms[labels];
  if (!slot) slot = std::make_unique<Histogram>(bounds);
  return *slot;
}

void Registry::AddCollector(std::function<void(Registry&)> collect) {
  std::lock_guard<std::mutex> l(mu_);
  collectors_.push_back(std::move(collect));
}

namespace {

std::string Escape(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string LabelText(const Labels& labels, const char* extra_name = nullptr, const std::string& extra_value = "") {
  if (labels.empty() && !extra_name) return "";
  std::string out = "{";
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!first) out += ',';
    first = false;
    out += k + "=\"" + Escape(v) + "\"";
  }
  if (extra_name) {
    if (!first) out += ',';
    out += std::string(extra_name) + "=\"" + extra_value + "\"";
  }
  return out + "}";
}

std::string Number(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (std::isnan(v)) return "NaN";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

}  // namespace

std::string Registry::Expose() {
  std::vector<std::function<void(Registry&)>> collectors;
  {
    std::lock_guard<std::mutex> l(mu_);
    collectors = collectors_;
  }
  for (auto& c : collectors) c(*this);
  std::lock_guard<std::mutex> l(mu_);
  std::string out;
  for (const auto& [family, f] : families_) {
    // Counters carry Prometheus' _total suffix (as Temporal's metrics through OpenTelemetry's
    // Prometheus exporter): workflow_success -> workflow_success_total.
    const bool suffix = f.type == Type::kCounter && !(family.size() > 6 && family.ends_with("_total"));
    const std::string name = suffix ? family + "_total" : family;
    const char* type = f.type == Type::kCounter ? "counter" : f.type == Type::kGauge ? "gauge" : "histogram";
    out += "# HELP " + name + " " + f.help + "\n# TYPE " + name + " " + type + "\n";
    for (const auto& [labels, c] : f.counters) out += name + LabelText(labels) + " " + std::to_string(c->value()) + "\n";
    for (const auto& [labels, g] : f.gauges) out += name + LabelText(labels) + " " + Number(g->value()) + "\n";
    for (const auto& [labels, h] : f.histograms) {
      uint64_t cumulative = 0;
      for (size_t i = 0; i < h->bounds().size(); ++i) {
        cumulative += h->bucket(i);
        out += name + "_bucket" + LabelText(labels, "le", Number(h->bounds()[i])) + " " + std::to_string(cumulative) + "\n";
      }
      cumulative += h->bucket(h->bounds().size());
      out += name + "_bucket" + LabelText(labels, "le", "+Inf") + " " + std::to_string(cumulative) + "\n";
      out += name + "_sum" + LabelText(labels) + " " + Number(h->sum()) + "\n";
      out += name + "_count" + LabelText(labels) + " " + std::to_string(cumulative) + "\n";
    }
  }
  return out;
}

}  // namespace temporalite::metrics
