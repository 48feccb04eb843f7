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

namespace {

struct CodeRange {
  char32_t first, last;
};

// Zero-width code points: combining marks, zero-width space/joiner and marks, variation
// selectors, emoji skin-tone modifiers (they join the emoji before them).
constexpr CodeRange kZeroWidth[] = {
    {0x0300, 0x036F}, {0x0483, 0x0489}, {0x0591, 0x05BD}, {0x0610, 0x061A}, {0x064B, 0x065F},
    {0x1AB0, 0x1AFF}, {0x1DC0, 0x1DFF}, {0x200B, 0x200F}, {0x2028, 0x202E}, {0x2060, 0x2064},
    {0x20D0, 0x20FF}, {0x302A, 0x302F}, {0x3099, 0x309A}, {0xFE00, 0xFE0F}, {0xFE20, 0xFE2F},
    {0xFEFF, 0xFEFF}, {0x1F3FB, 0x1F3FF}, {0xE0000, 0xE007F}, {0xE0100, 0xE01EF},
};

// Double-width code points (Unicode East Asian Wide and Fullwidth, emoji presentation), as
// terminals render them: CJK, Hangul, kana, fullwidth forms, emoji.
constexpr CodeRange kWide[] = {
    {0x1100, 0x115F},   {0x231A, 0x231B},   {0x2329, 0x232A},   {0x23E9, 0x23EC},   {0x23F0, 0x23F0},
    {0x23F3, 0x23F3},   {0x25FD, 0x25FE},   {0x2614, 0x2615},   {0x2648, 0x2653},   {0x267F, 0x267F},
    {0x2693, 0x2693},   {0x26A1, 0x26A1},   {0x26AA, 0x26AB},   {0x26BD, 0x26BE},   {0x26C4, 0x26C5},
    {0x26CE, 0x26CE},   {0x26D4, 0x26D4},   {0x26EA, 0x26EA},   {0x26F2, 0x26F3},   {0x26F5, 0x26F5},
    {0x26FA, 0x26FA},   {0x26FD, 0x26FD},   {0x2705, 0x2705},   {0x270A, 0x270B},   {0x2728, 0x2728},
    {0x274C, 0x274C},   {0x274E, 0x274E},   {0x2753, 0x2755},   {0x2757, 0x2757},   {0x2795, 0x2797},
    {0x27B0, 0x27B0},   {0x27BF, 0x27BF},   {0x2B1B, 0x2B1C},   {0x2B50, 0x2B50},   {0x2B55, 0x2B55},
    {0x2E80, 0x303E},   {0x3041, 0x33FF},   {0x3400, 0x4DBF},   {0x4E00, 0x9FFF},   {0xA000, 0xA4CF},
    {0xA960, 0xA97F},   {0xAC00, 0xD7A3},   {0xF900, 0xFAFF},   {0xFE10, 0xFE19},   {0xFE30, 0xFE6F},
    {0xFF00, 0xFF60},   {0xFFE0, 0xFFE6},   {0x16FE0, 0x16FE4}, {0x17000, 0x18AFF}, {0x1B000, 0x1B2FF},
    {0x1F004, 0x1F004}, {0x1F0CF, 0x1F0CF}, {0x1F18E, 0x1F18E}, {0x1F191, 0x1F19A}, {0x1F200, 0x1F251},
    {0x1F300, 0x1F64F}, {0x1F680, 0x1F6FF}, {0x1F7E0, 0x1F7EB}, {0x1F90C, 0x1F9FF}, {0x1FA70, 0x1FAFF},
    {0x20000, 0x2FFFD}, {0x30000, 0x3FFFD},
};

template <size_t N>
bool InRanges(const CodeRange (&ranges)[N], char32_t c) {
  size_t lo = 0, hi = N;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (c < ranges[mid].first) {
      hi = mid;
    } else if (c > ranges[mid].last) {
      lo = mid + 1;
    } else {
      return true;
    }
  }
  return false;
}

}  // namespace

size_t CodePointWidth(char32_t c) {
  if (c < 0x20 || (c >= 0x7F && c < 0xA0)) return 0;  // control characters
  if (InRanges(kZeroWidth, c)) return 0;
  return InRanges(kWide, c) ? 2 : 1;
}

size_t DisplayWidth(std::string_view s) {
  size_t width = 0;
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == 0x1b && i + 1 < s.size() && s[i + 1] == '[') {
      i += 2;
      while (i < s.size() && !(s[i] >= '@' && s[i] <= '~')) ++i;
      ++i;
      continue;
    }
    // Decode one UTF-8 sequence; a malformed byte counts as one column (it prints as U+FFFD).
    size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (len == 0 || i + len > s.size()) {
      ++width;
      ++i;
      continue;
    }
    char32_t cp = len == 1 ? c : (c & (0x7F >> len));
    bool ok = true;
    for (size_t k = 1; k < len; ++k) {
      unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) ok = false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (!ok) {
      ++width;
      ++i;
      continue;
    }
    width += CodePointWidth(cp);
    i += len;
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
