#include "http/routes.h"

#include "google/api/annotations.pb.h"
#include "google/api/http.pb.h"

namespace temporalite::http {

std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> out;
  if (!path.empty() && path[0] == '/') path.remove_prefix(1);
  while (true) {
    size_t slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

namespace {

std::vector<PathSegment> ParseTemplate(std::string_view path) {
  std::vector<PathSegment> segs;
  for (std::string_view s : SplitPath(path)) {
    PathSegment seg;
    if (s.size() >= 2 && s.front() == '{' && s.back() == '}') {
      std::string_view inner = s.substr(1, s.size() - 2);
      size_t eq = inner.find('=');
      seg.text = std::string(inner.substr(0, eq));
      seg.kind = PathSegment::Kind::kVariable;
      if (eq != std::string_view::npos && inner.substr(eq + 1) == "**") seg.kind = PathSegment::Kind::kRest;
    } else {
      seg.text = std::string(s);
    }
    segs.push_back(std::move(seg));
  }
  return segs;
}

void AddRule(const google::api::HttpRule& rule, const google::protobuf::MethodDescriptor* m, std::string_view prefix,
             std::vector<Route>* out) {
  Route r;
  r.method = m;
  r.body = rule.body();
  switch (rule.pattern_case()) {
    case google::api::HttpRule::kGet: r.http_method = "GET"; r.path = rule.get(); break;
    case google::api::HttpRule::kPost: r.http_method = "POST"; r.path = rule.post(); break;
    case google::api::HttpRule::kDelete: r.http_method = "DELETE"; r.path = rule.delete_(); break;
    case google::api::HttpRule::kPut: r.http_method = "PUT"; r.path = rule.put(); break;
    case google::api::HttpRule::kPatch: r.http_method = "PATCH"; r.path = rule.patch(); break;
    default: return;
  }
  if (r.path.rfind(prefix, 0) != 0) return;
  r.segments = ParseTemplate(r.path);
  out->push_back(std::move(r));
}

}  // namespace

bool PercentDecode(std::string_view in, bool plus_is_space, std::string* out) {
  out->clear();
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;
      int hi = hex(in[i + 1]), lo = hex(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out->push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out->push_back(' ');
    } else {
      out->push_back(c);
    }
  }
  return true;
}

RouteTable RouteTable::Build(const std::vector<const google::protobuf::ServiceDescriptor*>& services,
                             std::string_view prefix) {
  RouteTable t;
  for (const auto* service : services) {
    if (!service) continue;
    for (int i = 0; i < service->method_count(); ++i) {
      const auto* m = service->method(i);
      if (!m->options().HasExtension(google::api::http)) continue;
      const auto& rule = m->options().GetExtension(google::api::http);
      AddRule(rule, m, prefix, &t.routes_);
      for (const auto& extra : rule.additional_bindings()) AddRule(extra, m, prefix, &t.routes_);
    }
  }
  return t;
}

RouteTable RouteTable::FromRoutes(std::vector<Route> routes) {
  RouteTable t;
  for (Route& r : routes) r.segments = ParseTemplate(r.path);
  t.routes_ = std::move(routes);
  return t;
}

const Route* RouteTable::Match(std::string_view http_method, std::string_view raw_path, PathBindings* bindings,
                               bool* path_matched) const {
  std::vector<std::string_view> parts = SplitPath(raw_path);
  const Route* best = nullptr;
  PathBindings best_bindings;
  *path_matched = false;
  // Literal-before-variable precedence: compare the kinds position by position.
  auto better = [](const Route& a, const Route& b) {
    size_t n = std::min(a.segments.size(), b.segments.size());
    for (size_t i = 0; i < n; ++i) {
      bool la = a.segments[i].kind == PathSegment::Kind::kLiteral;
      bool lb = b.segments[i].kind == PathSegment::Kind::kLiteral;
      if (la != lb) return la;
    }
    return false;
  };
  for (const Route& r : routes_) {
    PathBindings b;
    bool ok = true;
    size_t i = 0;
    for (size_t s = 0; s < r.segments.size() && ok; ++s) {
      const PathSegment& seg = r.segments[s];
      if (seg.kind == PathSegment::Kind::kRest) {
        if (i >= parts.size()) { ok = false; break; }
        std::string joined, decoded;
        for (; i < parts.size(); ++i) {
          if (!PercentDecode(parts[i], false, &decoded)) { ok = false; break; }
          if (!joined.empty()) joined += '/';
          joined += decoded;
        }
        b.emplace_back(seg.text, joined);
        continue;
      }
      if (i >= parts.size()) { ok = false; break; }
      std::string decoded;
      if (!PercentDecode(parts[i], false, &decoded)) { ok = false; break; }
      if (seg.kind == PathSegment::Kind::kLiteral) {
        ok = decoded == seg.text;
      } else {
        ok = !decoded.empty();
        b.emplace_back(seg.text, decoded);
      }
      ++i;
    }
    if (!ok || i != parts.size()) continue;
    if (r.http_method != http_method) {
      *path_matched = true;
      continue;
    }
    if (!best || better(r, *best)) {
      best = &r;
      best_bindings = std::move(b);
    }
  }
  if (best) *bindings = std::move(best_bindings);
  return best;
}

}  // namespace temporalite::http
