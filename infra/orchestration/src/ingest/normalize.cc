#include "ingest/normalize.h"

#include <cctype>
#include <cmath>
#include <string>

namespace tillless::ingest {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

// Replaces UTF-8 no-break and thin spaces and the multiplication sign with ASCII.
std::string Asciify(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = s[i];
    if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0xA0) {
      out += ' ';
      ++i;
    } else if (c == 0xE2 && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
               static_cast<unsigned char>(s[i + 2]) == 0xAF) {
      out += ' ';
      i += 2;
    } else if (c == 0xC3 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x97) {
      out += 'x';
      ++i;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

// Reads a decimal number ("1.5", "1,5") at `pos`; advances pos.
std::optional<double> ReadNumber(const std::string& s, size_t& pos) {
  size_t p = pos;
  double v = 0;
  bool any = false;
  while (p < s.size() && std::isdigit(static_cast<unsigned char>(s[p]))) {
    v = v * 10 + (s[p] - '0');
    ++p;
    any = true;
  }
  if (!any) return std::nullopt;
  if (p + 1 < s.size() && (s[p] == '.' || s[p] == ',') &&
      std::isdigit(static_cast<unsigned char>(s[p + 1]))) {
    ++p;
    double scale = 0.1;
    while (p < s.size() && std::isdigit(static_cast<unsigned char>(s[p]))) {
      v += (s[p] - '0') * scale;
      scale /= 10;
      ++p;
    }
  }
  pos = p;
  return v;
}

void SkipSpaces(const std::string& s, size_t& pos) {
  while (pos < s.size() && IsSpace(s[pos])) ++pos;
}

bool AtWordEnd(const std::string& s, size_t pos) {
  return pos >= s.size() || !std::isalnum(static_cast<unsigned char>(s[pos]));
}

struct UnitWord {
  const char* word;
  BaseUnit unit;
  double factor;
};
// Longest words first so "ml" is not read as "m" + "l".
constexpr UnitWord kUnits[] = {
    {"kilograms", BaseUnit::kGram, 1000}, {"kilogram", BaseUnit::kGram, 1000},
    {"litres", BaseUnit::kMillilitre, 1000}, {"liters", BaseUnit::kMillilitre, 1000},
    {"litre", BaseUnit::kMillilitre, 1000}, {"liter", BaseUnit::kMillilitre, 1000},
    {"grams", BaseUnit::kGram, 1},          {"gram", BaseUnit::kGram, 1},
    {"kg", BaseUnit::kGram, 1000},          {"ml", BaseUnit::kMillilitre, 1},
    {"cl", BaseUnit::kMillilitre, 10},      {"lt", BaseUnit::kMillilitre, 1000},
    {"gr", BaseUnit::kGram, 1},             {"g", BaseUnit::kGram, 1},
    {"l", BaseUnit::kMillilitre, 1000},
};
constexpr const char* kCountWords[] = {"'s", "pack", "pk", "ea", "s"};

// Parses "<n> x <amount><unit>", "<amount><unit>" or "<n>'s"/"<n> pack" at pos (lower-case
// input). On success pos is after the expression and at a word end.
std::optional<PackSize> ParseAt(const std::string& s, size_t& pos) {
  size_t p = pos;
  auto first = ReadNumber(s, p);
  if (!first || *first <= 0) return std::nullopt;
  size_t after_first = p;
  SkipSpaces(s, p);
  int count = 1;
  double amount = *first;
  if (p < s.size() && (s[p] == 'x' || s[p] == '*')) {
    size_t q = p + 1;
    SkipSpaces(s, q);
    auto second = ReadNumber(s, q);
    if (second && *second > 0 && std::floor(*first) == *first) {
      count = static_cast<int>(*first);
      amount = *second;
      p = q;
      SkipSpaces(s, p);
    }
  }
  for (const UnitWord& u : kUnits) {
    size_t n = std::char_traits<char>::length(u.word);
    if (s.compare(p, n, u.word) == 0 && AtWordEnd(s, p + n)) {
      pos = p + n;
      return PackSize{count, amount * u.factor, u.unit};
    }
  }
  if (count == 1 && std::floor(*first) == *first) {
    size_t q = after_first;
    for (const char* w : kCountWords) {
      size_t n = std::char_traits<char>::length(w);
      size_t r = q;
      if (std::string_view(w) == "pack" || std::string_view(w) == "pk" ||
          std::string_view(w) == "ea") {
        SkipSpaces(s, r);
      }
      if (s.compare(r, n, w) == 0 && AtWordEnd(s, r + n)) {
        pos = r + n;
        return PackSize{static_cast<int>(*first), 1, BaseUnit::kItem};
      }
    }
  }
  return std::nullopt;
}

}  // namespace

Result<int64_t> ParseZarCents(std::string_view text) {
  std::string s = Lower(Trim(Asciify(text)));
  std::string_view v = s;
  if (v.rfind("zar", 0) == 0) v.remove_prefix(3);
  else if (v.rfind("r", 0) == 0) v.remove_prefix(1);
  std::string digits;
  for (char c : v) {
    if (c == ' ') continue;
    digits += c;
  }
  if (digits.empty()) return InvalidArgument("price is empty");
  // The last separator is the decimal mark when two digits (or one) follow it; any other
  // separator groups thousands ("1,299.99", "1 299,99", "1.299,99").
  size_t last_sep = digits.find_last_of(".,");
  std::string whole = digits, frac;
  if (last_sep != std::string::npos && digits.size() - last_sep - 1 <= 2) {
    whole = digits.substr(0, last_sep);
    frac = digits.substr(last_sep + 1);
  }
  std::string clean;
  for (char c : whole) {
    if (c == ',' || c == '.') continue;
    if (!std::isdigit(static_cast<unsigned char>(c))) {
      return InvalidArgument("price \"" + std::string(text) + "\" is not a rand amount");
    }
    clean += c;
  }
  for (char c : frac) {
    if (!std::isdigit(static_cast<unsigned char>(c))) {
      return InvalidArgument("price \"" + std::string(text) + "\" is not a rand amount");
    }
  }
  if (clean.empty() || clean.size() > 9) {
    return InvalidArgument("price \"" + std::string(text) + "\" is not a rand amount");
  }
  while (frac.size() < 2) frac += '0';
  int64_t cents = std::stoll(clean) * 100 + std::stoll(frac);
  if (cents <= 0) return InvalidArgument("price \"" + std::string(text) + "\" is not positive");
  return cents;
}

Result<PackSize> ParsePackSize(std::string_view text) {
  std::string s = Lower(Trim(Asciify(text)));
  if (s == "each" || s == "ea" || s == "single" || s == "per each" || s == "1 each" ||
      s == "unit" || s == "per item") {
    return PackSize{};
  }
  if (s == "per kg" || s == "kg" || s == "/kg" || s == "loose per kg") {
    return PackSize{1, 1000, BaseUnit::kGram};
  }
  size_t pos = 0;
  auto pack = ParseAt(s, pos);
  SkipSpaces(s, pos);
  if (!pack || pos != s.size()) {
    return InvalidArgument("size \"" + std::string(text) + "\" is not a pack size");
  }
  return *pack;
}

std::optional<PackSize> PackSizeFromTitle(std::string_view title) {
  std::string s = Lower(Asciify(title));
  std::optional<PackSize> found;
  for (size_t i = 0; i < s.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) continue;
    if (i > 0 && (std::isalnum(static_cast<unsigned char>(s[i - 1])) || s[i - 1] == '.' ||
                  s[i - 1] == ',')) {
      continue;
    }
    size_t pos = i;
    if (auto p = ParseAt(s, pos)) {
      found = p;
      i = pos;
    }
  }
  if (!found) {
    std::string padded = " " + s + " ";
    for (const char* w : {" each ", " per kg ", " loose "}) {
      if (padded.find(w) != std::string::npos) {
        return std::string_view(w) == " each " ? PackSize{} : PackSize{1, 1000, BaseUnit::kGram};
      }
    }
  }
  return found;
}

std::optional<int64_t> MultiBuyUnitCents(std::string_view label) {
  std::string s = Lower(Asciify(label));
  size_t f = s.find(" for ");
  if (f == std::string::npos) return std::nullopt;
  size_t start = f;
  while (start > 0 && std::isdigit(static_cast<unsigned char>(s[start - 1]))) --start;
  if (start == f) return std::nullopt;
  int n = std::stoi(s.substr(start, f - start));
  auto total = ParseZarCents(std::string_view(s).substr(f + 5));
  if (n <= 0 || !total.ok()) return std::nullopt;
  return (total.value() + n / 2) / n;
}

std::pair<int64_t, const char*> UnitPrice(int64_t price_cents, const PackSize& pack) {
  double total = pack.Total();
  switch (pack.unit) {
    case BaseUnit::kGram:
      return {std::llround(price_cents * 1000.0 / total), "kg"};
    case BaseUnit::kMillilitre:
      return {std::llround(price_cents * 1000.0 / total), "l"};
    case BaseUnit::kItem:
      return {std::llround(price_cents / total), "item"};
  }
  return {0, ""};
}

Result<PriceRecord> Normalize(const RawItem& item) {
  PriceRecord r;
  if (Trim(item.id).empty()) return InvalidArgument("item has no id");
  r.item_id = std::string(Trim(item.id));
  if (Trim(item.title).empty()) return InvalidArgument("item " + r.item_id + " has no title");
  r.title = std::string(Trim(item.title));
  r.brand = std::string(Trim(item.brand));
  r.category = item.category;
  auto price = ParseZarCents(item.price);
  if (!price.ok()) return InvalidArgument("item " + r.item_id + ": " + price.status().message());
  r.price_cents = price.value();

  r.promo_label = std::string(Trim(item.promo_label));
  if (!Trim(item.promo_price).empty()) {
    auto promo = ParseZarCents(item.promo_price);
    // A promotion that is not cheaper than the shelf price is the retailer's data error: the
    // item keeps its regular price, the promotion is dropped.
    if (promo.ok() && promo.value() < r.price_cents) r.promo_price_cents = promo.value();
  } else if (!r.promo_label.empty()) {
    if (auto each = MultiBuyUnitCents(r.promo_label); each && *each < r.price_cents) {
      r.promo_price_cents = *each;
    }
  }

  if (!Trim(item.size).empty()) {
    auto pack = ParsePackSize(item.size);
    if (pack.ok()) r.pack = pack.value();
  }
  if (!r.pack) r.pack = PackSizeFromTitle(r.title);
  if (r.pack) {
    auto [cents, basis] = UnitPrice(r.price_cents, *r.pack);
    r.unit_price_cents = cents;
    r.unit_basis = basis;
  }

  std::string stock = Lower(Trim(item.stock));
  if (stock == "in_stock" || stock == "true" || stock == "available" || stock == "instock") {
    r.stock_level = "in_stock";
  } else if (stock == "low_stock" || stock == "low" || stock == "limited") {
    r.stock_level = "low_stock";
  } else if (stock == "out_of_stock" || stock == "false" || stock == "unavailable" ||
             stock == "sold_out") {
    r.stock_level = "out_of_stock";
  } else {
    r.stock_level = "unknown";
  }
  return r;
}

}  // namespace tillless::ingest
