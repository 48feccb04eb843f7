#include "visibility/query.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <optional>

#include "common/enum_names.h"
#include "temporal/api/enums/v1/workflow.pb.h"

namespace temporalite::visibility {

namespace ev1 = ::temporal::api::enums::v1;

namespace {

constexpr const char* kMalformed = "malformed SQL query";
constexpr const char* kNotSupported = "operation is not supported";
constexpr const char* kInvalidExpr = "invalid expression";

// Limits that keep a filter within what the parser's stack and SQLite accept (SQLite's parser
// stack is ~100 entries; its expression depth limit is 1,000; bound values 32,766).
constexpr int kMaxNesting = 100;        // parentheses and NOTs as written
constexpr int kMaxConditionDepth = 8;   // AND/OR/NOT levels after redundant parentheses are dropped
constexpr size_t kMaxConditions = 1000; // predicates (an IN list counts once)
constexpr size_t kMaxValues = 10000;    // bound values (IN lists included)

Status QueryError(const std::string& kind, const std::string& detail) {
  return InvalidArgument("invalid query: " + kind + ": " + detail);
}

// ---- tokens ----
enum class Tok { kEnd, kIdent, kString, kNumber, kOp, kLParen, kRParen, kComma };

struct Token {
  Tok kind = Tok::kEnd;
  std::string text;   // identifier / string contents / number / operator
  std::string upper;  // identifiers uppercased (keywords)
  size_t pos = 0;     // 1-based end position, like sqlparser's
};

Result<std::vector<Token>> Lex(std::string_view q) {
  std::vector<Token> out;
  size_t i = 0;
  auto syntax = [&](size_t pos, const std::string& near) {
    return QueryError(kMalformed, "syntax error at position " + std::to_string(pos) + " near '" + near + "'");
  };
  while (i < q.size()) {
    char c = q[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
      continue;
    }
    Token t;
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t s = i;
      while (i < q.size() && (std::isalnum(static_cast<unsigned char>(q[i])) || q[i] == '_' || q[i] == '.')) ++i;
      t.kind = Tok::kIdent;
      t.text = std::string(q.substr(s, i - s));
    } else if (c == '`') {
      size_t end = q.find('`', i + 1);
      if (end == std::string_view::npos) return syntax(q.size() + 1, std::string(q.substr(i)));
      t.kind = Tok::kIdent;
      t.text = std::string(q.substr(i + 1, end - i - 1));
      i = end + 1;
    } else if (c == '\'' || c == '"') {
      std::string v;
      size_t j = i + 1;
      bool closed = false;
      while (j < q.size()) {
        if (q[j] == '\\' && j + 1 < q.size()) {
          v += q[j + 1];
          j += 2;
        } else if (q[j] == c) {
          if (j + 1 < q.size() && q[j + 1] == c) {  // doubled quote
            v += c;
            j += 2;
          } else {
            closed = true;
            ++j;
            break;
          }
        } else {
          v += q[j++];
        }
      }
      if (!closed) return syntax(q.size() + 1, std::string(q.substr(i)));
      t.kind = Tok::kString;
      t.text = v;
      i = j;
    } else if (std::isdigit(static_cast<unsigned char>(c)) ||
               ((c == '-' || c == '.') && i + 1 < q.size() && std::isdigit(static_cast<unsigned char>(q[i + 1])))) {
      size_t s = i++;
      while (i < q.size() && (std::isalnum(static_cast<unsigned char>(q[i])) || q[i] == '.' ||
                              ((q[i] == '-' || q[i] == '+') && (q[i - 1] == 'e' || q[i - 1] == 'E')))) {
        ++i;
      }
      t.kind = Tok::kNumber;
      t.text = std::string(q.substr(s, i - s));
    } else if (c == '(' || c == ')' || c == ',') {
      t.kind = c == '(' ? Tok::kLParen : c == ')' ? Tok::kRParen : Tok::kComma;
      t.text = std::string(1, c);
      ++i;
    } else if (c == '=' || c == '<' || c == '>' || c == '!') {
      std::string op(1, c);
      if (i + 1 < q.size() && (q[i + 1] == '=' || (c == '<' && q[i + 1] == '>'))) op += q[i + 1];
      if (op == "!") return syntax(i + 1, "!");
      if (op == "<>") op = "!=";
      i += op == "!=" && q[i] == '<' ? 2 : op.size();
      t.kind = Tok::kOp;
      t.text = op;
    } else {
      return syntax(i + 1, std::string(1, c));
    }
    t.pos = i;
    for (char ch : t.text) t.upper += static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    out.push_back(std::move(t));
  }
  Token end;
  end.pos = q.size() + 1;
  out.push_back(end);
  return out;
}

// ---- values ----
struct QValue {
  enum Kind { kString, kInt, kFloat, kBool } kind = kString;
  std::string s;
  int64_t i = 0;
  double d = 0;
  bool b = false;
  // Go's %#v of the value and its %T, for Temporal's value-type error.
  std::string GoRepr() const {
    switch (kind) {
      case kString: {
        std::string out = "\"";
        for (char c : s) out += (c == '"' || c == '\\') ? std::string("\\") + c : std::string(1, c);
        return out + "\"";
      }
      case kInt: return std::to_string(i);
      case kFloat: {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%g", d);
        return buf;
      }
      case kBool: return b ? "true" : "false";
    }
    return "";
  }
  std::string GoType() const {
    switch (kind) {
      case kString: return "string";
      case kInt: return "int64";
      case kFloat: return "float64";
      case kBool: return "bool";
    }
    return "";
  }
};

struct Column {
  std::string alias;  // as written
  std::string name;   // resolved attribute name
  ValueType type;
  std::string sql;    // column expression
  bool is_list = false;
  std::string json_path;  // custom/predefined: '$."Name"'
};

const std::map<std::string, std::string>& SystemColumns() {
  static const std::map<std::string, std::string> m = {
      {"WorkflowId", "workflow_id"},
      {"RunId", "run_id"},
      {"WorkflowType", "workflow_type"},
      {"StartTime", "start_time"},
      {"ExecutionTime", "execution_time"},
      {"CloseTime", "close_time"},
      {"ExecutionStatus", "status"},
      {"TaskQueue", "task_queue"},
      {"HistoryLength", "history_length"},
      {"ExecutionDuration", "execution_duration"},
      {"StateTransitionCount", "state_transition_count"},
      {"HistorySizeBytes", "history_size_bytes"},
      {"ParentWorkflowId", "parent_workflow_id"},
      {"ParentRunId", "parent_run_id"},
      {"RootWorkflowId", "root_workflow_id"},
      {"RootRunId", "root_run_id"},
  };
  return m;
}

bool SafeName(const std::string& n) {
  if (n.empty()) return false;
  for (char c : n) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') return false;
  }
  return true;
}

class Compiler {
 public:
  Compiler(std::vector<Token> toks, const TypeMap& custom) : t_(std::move(toks)), custom_(custom) {}

  Result<CompiledQuery> Run() {
    if (!AtKeyword("ORDER") && !AtKeyword("GROUP") && Peek().kind != Tok::kEnd) {
      auto w = ParseOr();
      if (!w.ok()) return w.status();
      out_.where = Emit(*w);
    }
    if (AtKeyword("GROUP")) {
      Next();
      TL_RETURN_IF_ERROR(Expect("BY"));
      std::vector<Column> cols;
      do {
        auto c = ParseColumn();
        if (!c.ok()) return c.status();
        cols.push_back(*c);
      } while (Accept(Tok::kComma));
      if (cols.size() > 1) return QueryError(kNotSupported, "'GROUP BY' clause supports only a single field");
      if (cols[0].name != "ExecutionStatus") {
        return QueryError(kNotSupported, "'GROUP BY' clause is not supported for search attribute " + cols[0].alias);
      }
      out_.group_by_status = true;
    }
    if (AtKeyword("ORDER")) {
      Next();
      TL_RETURN_IF_ERROR(Expect("BY"));
      do {
        auto c = ParseColumn();
        if (!c.ok()) return c.status();
        if (c->type == ev1::INDEXED_VALUE_TYPE_TEXT) {
          return QueryError(kNotSupported, "unable to sort by search attribute type " + TypeName(c->type));
        }
        std::string dir = "ASC";
        if (AtKeyword("ASC") || AtKeyword("DESC")) dir = Next().upper;
        if (!out_.order_by.empty()) out_.order_by += ", ";
        out_.order_by += c->sql + " " + dir;
      } while (Accept(Tok::kComma));
    }
    if (AtKeyword("LIMIT")) return QueryError(kNotSupported, "'LIMIT' clause");
    if (Peek().kind != Tok::kEnd) return Syntax();
    return std::move(out_);
  }

 private:
  const Token& Peek() const { return t_[i_]; }
  const Token& Next() { return t_[i_ < t_.size() - 1 ? i_++ : i_]; }
  bool AtKeyword(const char* kw) const { return Peek().kind == Tok::kIdent && Peek().upper == kw; }
  bool Accept(Tok k) {
    if (Peek().kind != k) return false;
    Next();
    return true;
  }
  Status Syntax() const {
    const Token& t = Peek();
    return QueryError(kMalformed, "syntax error at position " + std::to_string(t.pos) + " near '" + t.text + "'");
  }
  Status Expect(const char* kw) {
    if (!AtKeyword(kw)) return Syntax();
    Next();
    return Status::Ok();
  }

  // A parsed boolean expression. Parentheses are not kept: SQL is emitted from the tree with
  // only the parentheses it needs, so "((((x))))" costs SQLite nothing.
  struct Node {
    enum Kind { kLeaf, kAnd, kOr, kNot } kind = kLeaf;
    std::string sql;          // kLeaf: one predicate (already self-contained)
    std::vector<Node> kids;   // kAnd/kOr: operands in order; kNot: one operand
    int depth = 0;            // AND/OR/NOT levels below and including this node
  };

  static Node Combine(Node::Kind kind, std::vector<Node> operands) {
    if (operands.size() == 1) return std::move(operands[0]);
    Node n;
    n.kind = kind;
    for (Node& o : operands) {
      if (o.kind == kind) {  // (a OR b) OR c is a OR b OR c
        for (Node& k : o.kids) n.kids.push_back(std::move(k));
      } else {
        n.kids.push_back(std::move(o));
      }
    }
    for (const Node& k : n.kids) n.depth = std::max(n.depth, k.depth + 1);
    return n;
  }

  // Temporal's parser stops at "max nesting level reached" too (at 200 parentheses); ours also
  // bounds the depth of the condition that reaches SQLite, whose parser stack is small.
  Status NestingError() const {
    const Token& t = Peek();
    return QueryError(kMalformed, "max nesting level reached at position " + std::to_string(t.pos) + " near '" +
                                      t.text + "'");
  }
  Status CheckNode(const Node& n) const {
    if (n.depth > kMaxConditionDepth) return NestingError();
    return Status::Ok();
  }

  Result<Node> ParseOr() {
    std::vector<Node> operands;
    do {
      auto r = ParseAnd();
      if (!r.ok()) return r;
      operands.push_back(std::move(r).value());
    } while (AtKeyword("OR") && (Next(), true));
    Node n = Combine(Node::kOr, std::move(operands));
    TL_RETURN_IF_ERROR(CheckNode(n));
    return n;
  }
  Result<Node> ParseAnd() {
    std::vector<Node> operands;
    do {
      auto r = ParseNot();
      if (!r.ok()) return r;
      operands.push_back(std::move(r).value());
    } while (AtKeyword("AND") && (Next(), true));
    Node n = Combine(Node::kAnd, std::move(operands));
    TL_RETURN_IF_ERROR(CheckNode(n));
    return n;
  }
  Result<Node> ParseNot() {
    if (AtKeyword("NOT")) {
      if (++nesting_ > kMaxNesting) return NestingError();
      Next();
      auto e = ParseNot();
      --nesting_;
      if (!e.ok()) return e;
      Node n;
      n.kind = Node::kNot;
      n.depth = e->depth + 1;
      n.kids.push_back(std::move(e).value());
      TL_RETURN_IF_ERROR(CheckNode(n));
      return n;
    }
    return ParsePrimary();
  }
  Result<Node> ParsePrimary() {
    if (Peek().kind == Tok::kLParen) {
      if (++nesting_ > kMaxNesting) return NestingError();
      Next();
      auto e = ParseOr();
      --nesting_;
      if (!e.ok()) return e;
      if (!Accept(Tok::kRParen)) return Syntax();
      return e;
    }
    if (Peek().kind != Tok::kIdent) {
      if (Peek().kind == Tok::kString || Peek().kind == Tok::kNumber) {
        return QueryError(kInvalidExpr, "must be a column name but was *sqlparser.SQLVal");
      }
      return Syntax();
    }
    if (t_[i_ + 1].kind == Tok::kLParen) return QueryError(kNotSupported, "function expression");
    auto col = ParseColumn();
    if (!col.ok()) return col.status();
    auto pred = ParsePredicate(*col);
    if (!pred.ok()) return pred.status();
    if (++conditions_ > kMaxConditions) {
      return QueryError(kNotSupported, "more than " + std::to_string(kMaxConditions) + " conditions in one query");
    }
    if (out_.args.size() > kMaxValues) {
      return QueryError(kNotSupported, "more than " + std::to_string(kMaxValues) + " values in one query");
    }
    Node n;
    n.sql = std::move(pred).value();
    return n;
  }

  // SQL for `n`, in operand order (the bound arguments were appended in the same order). Long
  // AND/OR chains are emitted as a balanced tree of groups of kGroup, so SQLite's expression
  // depth grows with the logarithm of the number of conditions, not with the number.
  static std::string Emit(const Node& n) {
    switch (n.kind) {
      case Node::kLeaf: return n.sql;
      case Node::kNot: return "NOT " + Wrapped(n.kids[0], Node::kNot);
      case Node::kAnd: return EmitChain(n.kids, 0, n.kids.size(), " AND ");
      case Node::kOr: return EmitChain(n.kids, 0, n.kids.size(), " OR ");
    }
    return "";
  }
  // `n` as an operand of `parent`: parentheses only where precedence needs them.
  static std::string Wrapped(const Node& n, Node::Kind parent) {
    bool bare = n.kind == Node::kLeaf || n.kind == Node::kNot || (n.kind == Node::kAnd && parent == Node::kOr);
    return bare ? Emit(n) : "(" + Emit(n) + ")";
  }
  static std::string EmitChain(const std::vector<Node>& kids, size_t begin, size_t end, const char* op) {
    constexpr size_t kGroup = 8;
    size_t count = end - begin;
    std::string s;
    if (count <= kGroup) {
      for (size_t k = begin; k < end; ++k) {
        if (k != begin) s += op;
        s += Wrapped(kids[k], op[1] == 'A' ? Node::kAnd : Node::kOr);
      }
      return s;
    }
    size_t step = (count + kGroup - 1) / kGroup;
    while (step > kGroup && step * kGroup < count) ++step;
    for (size_t k = begin; k < end; k += step) {
      if (k != begin) s += op;
      s += "(" + EmitChain(kids, k, std::min(end, k + step), op) + ")";
    }
    return s;
  }

  Result<Column> ParseColumn() {
    if (Peek().kind != Tok::kIdent) return Syntax();
    std::string alias = Next().text;
    Column c;
    c.alias = alias;
    std::string name = alias;
    auto type = LookupType(name, custom_);
    if (!type) {
      // Temporal resolves "ScheduleId" and names with or without the "Temporal" prefix.
      const std::string prefix = "Temporal";
      if (name == "ScheduleId" || name == "TemporalScheduleId") {
        name = "WorkflowId";
      } else if (name.rfind(prefix, 0) == 0) {
        name = name.substr(prefix.size());
      } else {
        name = prefix + name;
      }
      type = LookupType(name, custom_);
    }
    if (!type) return QueryError(kInvalidExpr, "column name '" + alias + "' is not a valid search attribute");
    c.name = name;
    c.type = *type;
    out_.fields.emplace_back(alias, name);
    auto sys = SystemColumns().find(name);
    if (sys != SystemColumns().end()) {
      c.sql = sys->second;
    } else {
      if (!SafeName(name)) return QueryError(kInvalidExpr, "column name '" + alias + "' is not a valid search attribute");
      c.json_path = "'$.\"" + name + "\"'";
      c.sql = "json_extract(search_attributes, " + c.json_path + ")";
      c.is_list = c.type == ev1::INDEXED_VALUE_TYPE_KEYWORD_LIST;
    }
    return c;
  }

  Result<QValue> ParseLiteral(const Column& col) {
    const Token& t = Peek();
    QValue v;
    if (t.kind == Tok::kString) {
      v.kind = QValue::kString;
      v.s = t.text;
    } else if (t.kind == Tok::kNumber) {
      char* end = nullptr;
      errno = 0;
      long long n = std::strtoll(t.text.c_str(), &end, 10);
      if (end && *end == '\0' && errno == 0) {
        v.kind = QValue::kInt;
        v.i = n;
      } else {
        end = nullptr;
        double d = std::strtod(t.text.c_str(), &end);
        if (!end || *end != '\0' || !std::isfinite(d)) {
          return QueryError(kInvalidExpr, "unable to parse value \"" + t.text + "\"");
        }
        v.kind = QValue::kFloat;
        v.d = d;
      }
    } else if (t.kind == Tok::kIdent && (t.upper == "TRUE" || t.upper == "FALSE")) {
      v.kind = QValue::kBool;
      v.b = t.upper == "TRUE";
    } else if (t.kind == Tok::kIdent) {
      return QueryError(kNotSupported, "column name on the right side of comparison expression (did you forget to quote \"" +
                                           t.text + "\"?)");
    } else {
      return Syntax();
    }
    Next();
    return v;
  }

  // Converts a literal to the bound value for `col` (Temporal's validateValueType and the
  // ExecutionStatus/ExecutionDuration special cases).
  Result<SqlArg> Convert(const Column& col, const QValue& v) {
    if (col.name == "ExecutionStatus") {
      if (v.kind == QValue::kInt) {
        if (ev1::WorkflowExecutionStatus_IsValid(static_cast<int>(v.i))) return SqlArg(v.i);
        return QueryError(kInvalidExpr, "invalid ExecutionStatus value " + std::to_string(v.i));
      }
      if (v.kind == QValue::kString) {
        auto s = ParseExecutionStatus(v.s);
        if (s) return SqlArg(static_cast<int64_t>(*s));
        return QueryError(kInvalidExpr, "invalid ExecutionStatus value '" + v.s + "'");
      }
      return QueryError(kInvalidExpr, "unexpected value type " + v.GoType() + " for search attribute ExecutionStatus");
    }
    if (col.name == "ExecutionDuration") {
      if (v.kind == QValue::kInt) return SqlArg(v.i);
      if (v.kind == QValue::kString) {
        auto d = ParseDuration(v.s);
        if (d) return SqlArg(*d);
        return QueryError(kInvalidExpr, "invalid duration value for search attribute ExecutionDuration: " + v.s);
      }
      return QueryError(kInvalidExpr, "unexpected value type " + v.GoType() + " for search attribute ExecutionDuration");
    }
    auto type_error = [&] {
      return QueryError(kInvalidExpr, "invalid value type for search attribute " + col.alias + " of type " +
                                          TypeName(col.type) + ": " + v.GoRepr() + " (type: " + v.GoType() + ")");
    };
    switch (col.type) {
      case ev1::INDEXED_VALUE_TYPE_INT:
      case ev1::INDEXED_VALUE_TYPE_DOUBLE:
        if (v.kind == QValue::kInt) return SqlArg(v.i);
        if (v.kind == QValue::kFloat) return SqlArg(v.d);
        return type_error();
      case ev1::INDEXED_VALUE_TYPE_BOOL:
        if (v.kind == QValue::kBool) return SqlArg(static_cast<int64_t>(v.b ? 1 : 0));
        return type_error();
      case ev1::INDEXED_VALUE_TYPE_DATETIME:
        if (v.kind == QValue::kInt) return SqlArg(v.i);
        if (v.kind == QValue::kString) {
          auto t = ParseRfc3339(v.s);
          if (t) return SqlArg(*t);
          return QueryError(kInvalidExpr, "unable to parse datetime '" + v.s + "'");
        }
        return type_error();
      default:  // Keyword, KeywordList, Text
        if (v.kind == QValue::kString) return SqlArg(v.s);
        return type_error();
    }
  }

  Status Unsupported(const Column& col, const std::string& op) {
    return QueryError(kNotSupported, "operator '" + op + "' not supported for " + TypeName(col.type) +
                                         " type search attribute '" + col.alias + "'");
  }

  std::string Placeholders(size_t n) {
    std::string s;
    for (size_t k = 0; k < n; ++k) s += k ? ", ?" : "?";
    return s;
  }

  Result<std::string> ParsePredicate(const Column& col) {
    using ev1::INDEXED_VALUE_TYPE_KEYWORD;
    using ev1::INDEXED_VALUE_TYPE_KEYWORD_LIST;
    using ev1::INDEXED_VALUE_TYPE_TEXT;
    if (AtKeyword("IS")) {
      Next();
      bool negate = false;
      if (AtKeyword("NOT")) {
        Next();
        negate = true;
      }
      if (!AtKeyword("NULL")) {
        return QueryError(kInvalidExpr, "'IS' operator can only be used as 'IS NULL' or 'IS NOT NULL'");
      }
      Next();
      return col.sql + (negate ? " IS NOT NULL" : " IS NULL");
    }
    bool negate = false;
    if (AtKeyword("NOT")) {
      Next();
      negate = true;
      if (!AtKeyword("IN") && !AtKeyword("BETWEEN") && !AtKeyword("STARTS_WITH")) return Syntax();
    }
    if (AtKeyword("BETWEEN")) {
      Next();
      if (col.type != ev1::INDEXED_VALUE_TYPE_DATETIME && col.type != ev1::INDEXED_VALUE_TYPE_DOUBLE &&
          col.type != ev1::INDEXED_VALUE_TYPE_INT && col.type != INDEXED_VALUE_TYPE_KEYWORD) {
        return QueryError(kInvalidExpr, "cannot do range condition on search attribute '" + col.alias + "' of type " +
                                            TypeName(col.type));
      }
      auto from = ParseLiteral(col);
      if (!from.ok()) return from.status();
      TL_RETURN_IF_ERROR(Expect("AND"));
      auto to = ParseLiteral(col);
      if (!to.ok()) return to.status();
      auto a = Convert(col, *from);
      if (!a.ok()) return a.status();
      auto b = Convert(col, *to);
      if (!b.ok()) return b.status();
      out_.args.push_back(*a);
      out_.args.push_back(*b);
      return col.sql + (negate ? " NOT BETWEEN ? AND ?" : " BETWEEN ? AND ?");
    }
    if (AtKeyword("STARTS_WITH")) {
      Next();
      std::string op = negate ? "NOT STARTS_WITH" : "STARTS_WITH";
      if (col.type != INDEXED_VALUE_TYPE_KEYWORD) return Unsupported(col, op);
      auto v = ParseLiteral(col);
      if (!v.ok()) return v.status();
      auto a = Convert(col, *v);
      if (!a.ok()) return a.status();
      const std::string& prefix = std::get<std::string>(*a);
      int64_t chars = 0;
      for (unsigned char ch : prefix) chars += (ch & 0xC0) != 0x80;
      out_.args.push_back(chars);
      out_.args.push_back(prefix);
      return "substr(" + col.sql + ", 1, ?) " + (negate ? "!=" : "=") + " ?";
    }
    if (AtKeyword("IN")) {
      Next();
      std::string op = negate ? "NOT IN" : "IN";
      if (col.type == INDEXED_VALUE_TYPE_TEXT) return Unsupported(col, op);
      if (!Accept(Tok::kLParen)) return Syntax();
      std::vector<SqlArg> vals;
      do {
        auto v = ParseLiteral(col);
        if (!v.ok()) return v.status();
        auto a = Convert(col, *v);
        if (!a.ok()) return a.status();
        vals.push_back(*a);
      } while (Accept(Tok::kComma));
      if (!Accept(Tok::kRParen)) return Syntax();
      std::string ph = Placeholders(vals.size());
      for (auto& v : vals) out_.args.push_back(std::move(v));
      if (col.is_list) return ListMembership(col, "value IN (" + ph + ")", negate);
      return col.sql + (negate ? " NOT IN (" : " IN (") + ph + ")";
    }
    if (Peek().kind != Tok::kOp) return Syntax();
    std::string op = Next().text;
    if (col.type == INDEXED_VALUE_TYPE_KEYWORD_LIST || col.type == INDEXED_VALUE_TYPE_TEXT) {
      if (op != "=" && op != "!=") return Unsupported(col, op);
    }
    auto v = ParseLiteral(col);
    if (!v.ok()) return v.status();
    auto a = Convert(col, *v);
    if (!a.ok()) return a.status();
    if (col.is_list) {
      out_.args.push_back(*a);
      return ListMembership(col, "value = ?", op == "!=");
    }
    if (col.type == INDEXED_VALUE_TYPE_TEXT) return TextMatch(col, std::get<std::string>(*a), op == "!=");
    out_.args.push_back(*a);
    return col.sql + " " + op + " ?";
  }

  // KeywordList: some element satisfies `cond` (negated: the attribute is set and none does).
  std::string ListMembership(const Column& col, const std::string& cond, bool negate) {
    std::string exists = "EXISTS (SELECT 1 FROM json_each(search_attributes, " + col.json_path + ") WHERE " + cond + ")";
    if (!negate) return exists;
    return "(" + col.sql + " IS NOT NULL AND NOT " + exists + ")";
  }

  // Text: every space-separated token of the value occurs as a word (case-insensitive).
  std::string TextMatch(const Column& col, const std::string& value, bool negate) {
    std::vector<std::string> tokens;
    std::string cur;
    for (char c : value + " ") {
      if (c == ' ') {
        if (!cur.empty()) tokens.push_back(cur);
        cur.clear();
      } else {
        cur += c;
      }
    }
    std::string cond = col.sql + " IS NOT NULL";
    for (const auto& tok : tokens) {
      std::string pat = "% ";
      for (char c : tok) {
        if (c == '%' || c == '_' || c == '\\') pat += '\\';
        pat += c;
      }
      pat += " %";
      cond += " AND (' ' || " + col.sql + " || ' ') LIKE ? ESCAPE '\\'";
      out_.args.push_back(pat);
    }
    if (!negate) return "(" + cond + ")";
    return "(" + col.sql + " IS NOT NULL AND NOT (" + cond + "))";
  }

  std::vector<Token> t_;
  size_t i_ = 0;
  int nesting_ = 0;      // parentheses and NOTs open at the current token
  size_t conditions_ = 0;
  const TypeMap& custom_;
  CompiledQuery out_;
};

}  // namespace

Result<CompiledQuery> CompileQuery(std::string_view query, const TypeMap& custom) {
  auto toks = Lex(query);
  if (!toks.ok()) return toks.status();
  return Compiler(std::move(toks).value(), custom).Run();
}

std::optional<int> ParseExecutionStatus(const std::string& s) {
  for (int v = ev1::WORKFLOW_EXECUTION_STATUS_RUNNING; v <= ev1::WORKFLOW_EXECUTION_STATUS_PAUSED; ++v) {
    if (!ev1::WorkflowExecutionStatus_IsValid(v)) continue;
    if (s == ExecutionStatusName(v) || s == ev1::WorkflowExecutionStatus_Name(v)) return v;
  }
  return std::nullopt;
}

std::string ExecutionStatusName(int status) {
  // WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW -> ContinuedAsNew
  return PascalEnumName(ev1::WorkflowExecutionStatus_Name(status), "WORKFLOW_EXECUTION_STATUS_");
}

std::optional<int64_t> ParseDuration(const std::string& s) {
  if (s.empty()) return std::nullopt;
  {
    char* end = nullptr;
    errno = 0;
    long long n = std::strtoll(s.c_str(), &end, 10);
    if (end && *end == '\0' && errno == 0) return n;
  }
  // hh:mm:ss
  {
    int h, m, sec;
    char tail;
    // h bounded so that the nanoseconds fit in int64 (no signed overflow).
    if (std::sscanf(s.c_str(), "%d:%d:%d%c", &h, &m, &sec, &tail) == 3 && h >= 0 && h <= 2562046 && m >= 0 && m < 60 &&
        sec >= 0 && sec < 60) {
      return (static_cast<int64_t>(h) * 3600 + m * 60 + sec) * 1000000000LL;
    }
  }
  // Go duration with "d": [-]{number unit}+
  size_t i = 0;
  bool neg = false;
  if (s[i] == '-' || s[i] == '+') neg = s[i++] == '-';
  if (i >= s.size()) return std::nullopt;
  if (s.substr(i) == "0") return 0;
  double total = 0;
  while (i < s.size()) {
    size_t start = i;
    while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
    if (i == start) return std::nullopt;
    double n = std::strtod(s.substr(start, i - start).c_str(), nullptr);
    size_t us = i;
    while (i < s.size() && !std::isdigit(static_cast<unsigned char>(s[i])) && s[i] != '.') ++i;
    std::string unit = s.substr(us, i - us);
    double mult;
    if (unit == "ns") mult = 1;
    else if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs") mult = 1e3;
    else if (unit == "ms") mult = 1e6;
    else if (unit == "s") mult = 1e9;
    else if (unit == "m") mult = 60e9;
    else if (unit == "h") mult = 3600e9;
    else if (unit == "d") mult = 86400e9;
    else return std::nullopt;
    total += n * mult;
  }
  // Out of int64 nanoseconds (about 292 years): invalid, as Go's time.ParseDuration says (the
  // cast would be undefined; found by fuzz/list_filter_fuzzer.cc).
  if (!(total < 9223372036854775807.0)) return std::nullopt;
  return static_cast<int64_t>(neg ? -total : total);
}

}  // namespace temporalite::visibility
