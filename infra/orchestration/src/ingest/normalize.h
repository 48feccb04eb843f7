// Normalisation of retailer catalogue items into price records: ZAR amounts to cents, pack sizes
// ("6 x 330ml", "1.5kg", "each", "6's") to a count and a base quantity (g, ml or items), unit
// prices per kg / litre / item, promotions (a promo price or "2 for R30") and stock. Pure
// functions, no I/O; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ingest/status.h"

namespace tillless::ingest {

// An item as the retailer sends it, every field still text (the source maps its JSON onto this).
struct RawItem {
  std::string id;
  std::string title;
  std::string brand;
  std::string category;
  std::string price;        // "R 89.99", "89.99", "R1 299,00"
  std::string promo_price;  // optional
  std::string promo_label;  // optional, e.g. "Xtra Savings", "2 for R30"
  std::string size;         // optional; taken from the title when empty
  std::string stock;        // "IN_STOCK", "LOW_STOCK", "OUT_OF_STOCK", "true", "false" or empty
};

enum class BaseUnit { kGram, kMillilitre, kItem };

struct PackSize {
  int count = 1;               // packs in the unit sold ("6 x 330ml" -> 6)
  double amount_each = 1;      // base units per pack (330 ml; 1 for items)
  BaseUnit unit = BaseUnit::kItem;
  double Total() const { return count * amount_each; }
};

struct PriceRecord {
  std::string item_id;
  std::string title;
  std::string brand;
  std::string category;
  int64_t price_cents = 0;
  std::optional<int64_t> promo_price_cents;  // effective price of one unit under the promotion
  std::string promo_label;
  std::optional<PackSize> pack;
  // Regular price per kg (grams), per litre (millilitres) or per item, in cents, rounded.
  std::optional<int64_t> unit_price_cents;
  std::string unit_basis;   // "kg", "l", "item" or "" when the size is unknown
  std::string stock_level;  // "in_stock", "low_stock", "out_of_stock", "unknown"
};

// "R 1 299,99" -> 129999. Rejects empty, negative, zero and non-numeric amounts.
Result<int64_t> ParseZarCents(std::string_view text);

// Parses a whole size string. "each"/"ea"/"single" are one item; "per kg"/"kg" a loose item
// sold per kg (1000 g).
Result<PackSize> ParsePackSize(std::string_view text);

// Finds the last size expression in a title ("Coca-Cola Original 6 x 330ml" -> 6 x 330 ml).
std::optional<PackSize> PackSizeFromTitle(std::string_view title);

// "2 for R30" / "Buy 3 for R100" -> cents per item (1500); nullopt when the label is no multi-buy.
std::optional<int64_t> MultiBuyUnitCents(std::string_view label);

// Unit price of `price_cents` for `pack`, with the basis name.
std::pair<int64_t, const char*> UnitPrice(int64_t price_cents, const PackSize& pack);

// Normalises one item. An error means the item is malformed (no price row can be written); the
// message names the field.
Result<PriceRecord> Normalize(const RawItem& item);

}  // namespace tillless::ingest
