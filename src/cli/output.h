// Output of the client commands: text (cards, aligned tables, colour only on a terminal),
// JSON (pretty) and JSONL (one compact object per line), or nothing (`-o none`).
// Data goes to the printer's stream (stdout); messages go to stderr through Message().
#pragma once

#include <google/protobuf/message.h>
#include <google/protobuf/timestamp.pb.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace temporalite::cli {

using Json = nlohmann::ordered_json;

enum class OutputFormat { kText, kJson, kJsonl, kNone };
enum class TimeFormat { kRelative, kIso, kRaw };
enum class Style { kPlain, kTitle, kGreen, kRed, kYellow, kBlue, kMagenta, kDim };

// One name/value line of a card.
struct Field {
  std::string name;
  std::string value;
  bool omit_empty = false;  // leave the line out when value is empty
};

struct Column {
  std::string name;
  size_t min_width = 0;
  bool align_right = false;
};

class Printer {
 public:
  Printer(OutputFormat format, bool color, TimeFormat time_format, std::FILE* out);

  OutputFormat format() const { return format_; }
  bool json() const { return format_ == OutputFormat::kJson || format_ == OutputFormat::kJsonl; }
  bool text() const { return format_ == OutputFormat::kText; }

  // `s` in the style's ANSI colour when colour is on, else unchanged.
  std::string Paint(Style style, std::string_view s) const;

  // Text output (ignored for the other formats).
  void Line(std::string_view s = {});
  void Title(std::string_view title);    // "Title:" line (magenta on a terminal)
  void Heading(std::string_view text);   // a line in the title colour, as given
  // Name/value lines, names padded to the widest, indented by two spaces per `indent`.
  void Card(const std::vector<Field>& fields, int indent = 1);
  // Aligned table; column widths fit the widest cell. Trailing blanks are trimmed. No rows: no output.
  void Table(const std::vector<Column>& cols, const std::vector<std::vector<std::string>>& rows,
             bool header = true);
  // Streaming tables use the columns' min_width as fixed widths (cells may overflow).
  void TableHeader(const std::vector<Column>& cols);
  void TableRow(const std::vector<Column>& cols, const std::vector<std::string>& row);

  // JSON output: pretty-printed for -o json, one line for -o jsonl (ignored otherwise).
  void PrintJson(const Json& value);
  // Lists: -o json prints one array at EndList, -o jsonl prints each item as it comes.
  void StartList();
  void ListItem(const Json& value);
  void EndList();

  // A timestamp per --time-format ("" when unset).
  std::string Time(const google::protobuf::Timestamp& ts) const;
  void Flush();

 private:
  std::string Pad(const std::string& s, size_t width, bool right) const;

  OutputFormat format_;
  bool color_;
  TimeFormat time_format_;
  std::FILE* out_;
  bool in_list_ = false;
  Json list_;
};

// Terminal columns of one code point, wcwidth-style: 2 for East Asian wide/fullwidth characters
// and emoji, 0 for combining marks, zero-width characters and variation selectors, else 1.
size_t CodePointWidth(char32_t c);
// Visible width of `s` in terminal columns (CodePointWidth of each UTF-8 code point), not
// counting ANSI colour sequences.
size_t DisplayWidth(std::string_view s);

// The protobuf JSON of `msg` (google::protobuf::util::MessageToJsonString), key order kept.
Json ProtoJson(const google::protobuf::Message& msg);

// Prints a message line to stderr (never to the data stream).
void Message(const std::string& line);

}  // namespace temporalite::cli
