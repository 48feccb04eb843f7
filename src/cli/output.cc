#include "cli/output.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <chrono>
#include <sstream>

#include "cli/command.h"
#include "cli/format.h"

namespace temporalite::cli {

Printer::Printer(OutputFormat format, bool color, TimeFormat time_format, std::FILE* out)
    : format_(format), color_(color), time_format_(time_format), out_(out) {}

std::string Printer::Paint(Style style, std::string_view s) const {
  if (!color_ || s.empty()) return std::string(s);
  const char* code = "";
  switch (style) {
    case Style::kPlain: return std::string(s);
    case Style::kTitle:
    case Style::kMagenta: code = "\x1b[35m"; break;
    case Style::kGreen: code = "\x1b[32m"; break;
    case Style::kRed: code = "\x1b[31m"; break;
    case Style::kYellow: code = "\x1b[33m"; break;
    case Style::kBlue: code = "\x1b[34m"; break;
    case Style::kDim: code = "\x1b[2m"; break;
  }
  return std::string(code) + std::string(s) + "\x1b[0m";
}

void Printer::Line(std::string_view s) {
  if (!text()) return;
  std::fwrite(s.data(), 1, s.size(), out_);
  std::fputc('\n', out_);
}

void Printer::Title(std::string_view title) { Line(Paint(Style::kTitle, std::string(title) + ":")); }

void Printer::Heading(std::string_view text) { Line(Paint(Style::kTitle, text)); }

std::string Printer::Pad(const std::string& s, size_t width, bool right) const {
  size_t w = DisplayWidth(s);
  if (w >= width) return s;
  std::string fill(width - w, ' ');
  return right ? fill + s : s + fill;
}

namespace {
void TrimRight(std::string* s) {
  while (!s->empty() && s->back() == ' ') s->pop_back();
}
}  // namespace

void Printer::Card(const std::vector<Field>& fields, int indent) {
  if (!text()) return;
  size_t width = 0;
  for (const Field& f : fields) {
    if (f.omit_empty && f.value.empty()) continue;
    width = std::max(width, DisplayWidth(f.name));
  }
  std::string lead(2 * indent, ' ');
  for (const Field& f : fields) {
    if (f.omit_empty && f.value.empty()) continue;
    // A multi-line value (a failure) continues on the following lines as given.
    std::string text = lead + Pad(f.name, width, false) + lead + f.value;
    size_t pos = 0;
    while (pos <= text.size()) {
      size_t nl = text.find('\n', pos);
      std::string line = text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
      TrimRight(&line);
      Line(line);
      if (nl == std::string::npos) break;
      pos = nl + 1;
    }
  }
}

void Printer::Table(const std::vector<Column>& cols, const std::vector<std::vector<std::string>>& rows,
                    bool header) {
  if (!text() || rows.empty()) return;  // an empty table prints nothing, not a lone header
  std::vector<Column> sized = cols;
  for (size_t c = 0; c < sized.size(); ++c) {
    size_t w = std::max(sized[c].min_width, header ? DisplayWidth(sized[c].name) : 0);
    for (const auto& row : rows) {
      if (c < row.size()) w = std::max(w, DisplayWidth(row[c]));
    }
    sized[c].min_width = w;
  }
  if (header) TableHeader(sized);
  for (const auto& row : rows) TableRow(sized, row);
}

void Printer::TableHeader(const std::vector<Column>& cols) {
  if (!text()) return;
  std::string line;
  for (const Column& c : cols) {
    line += "  " + Pad(Paint(Style::kTitle, c.name), c.min_width, c.align_right);
  }
  TrimRight(&line);
  Line(line);
}

void Printer::TableRow(const std::vector<Column>& cols, const std::vector<std::string>& row) {
  if (!text()) return;
  std::string line;
  for (size_t c = 0; c < cols.size(); ++c) {
    line += "  " + Pad(c < row.size() ? row[c] : "", cols[c].min_width, cols[c].align_right);
  }
  TrimRight(&line);
  Line(line);
}

void Printer::PrintJson(const Json& value) {
  std::string s;
  if (format_ == OutputFormat::kJson) {
    s = value.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
  } else if (format_ == OutputFormat::kJsonl) {
    s = value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } else {
    return;
  }
  s += '\n';
  std::fwrite(s.data(), 1, s.size(), out_);
}

void Printer::StartList() {
  in_list_ = true;
  list_ = Json::array();
}

void Printer::ListItem(const Json& value) {
  if (format_ == OutputFormat::kJson && in_list_) {
    list_.push_back(value);
  } else {
    PrintJson(value);
  }
}

void Printer::EndList() {
  if (format_ == OutputFormat::kJson && in_list_) PrintJson(list_);
  in_list_ = false;
  list_ = Json::array();
}

std::string Printer::Time(const google::protobuf::Timestamp& ts) const {
  if (!IsSet(ts)) return "";
  switch (time_format_) {
    case TimeFormat::kRelative:
      return RelativeTime(FromProto(ts), std::chrono::system_clock::now());
    case TimeFormat::kIso:
      return Rfc3339(ts);
    case TimeFormat::kRaw: {
      // Full precision, like Go's time.Time.String() without the monotonic part.
      std::string base = Rfc3339(ts);
      char frac[16];
      std::snprintf(frac, sizeof frac, ".%09d", ts.nanos());
      return base.substr(0, base.size() - 1) + frac + "Z";
    }
  }
  return "";
}

void Printer::Flush() { std::fflush(out_); }

size_t DisplayWidth(std::string_view s) {
  size_t width = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == 0x1b && i + 1 < s.size() && s[i + 1] == '[') {
      i += 2;
      while (i < s.size() && !(s[i] >= '@' && s[i] <= '~')) ++i;
      continue;
    }
    if ((c & 0xC0) != 0x80) ++width;  // count code point starts only
  }
  return width;
}

Json ProtoJson(const google::protobuf::Message& msg) {
  std::string s;
  google::protobuf::util::JsonPrintOptions opts;
  auto status = google::protobuf::util::MessageToJsonString(msg, &s, opts);
  if (!status.ok()) {
    throw CommandError("cannot convert " + msg.GetDescriptor()->full_name() + " to JSON: " +
                       std::string(status.message()));
  }
  return Json::parse(s);
}

void Message(const std::string& line) {
  std::fflush(stdout);
  std::fprintf(stderr, "%s\n", line.c_str());
  std::fflush(stderr);
}

}  // namespace temporalite::cli
