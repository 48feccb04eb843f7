// Normalisation on a table of real-world Sixty60-style titles, sizes and prices.
#include "ingest/normalize.h"

#include <gtest/gtest.h>

#include "fixture/catalogue.h"
#include "ingest/sixty60_source.h"

namespace tillless::ingest {
namespace {

TEST(ZarCents, Formats) {
  struct Case {
    const char* in;
    int64_t cents;
  } cases[] = {
      {"R 89.99", 8999},   {"89.99", 8999},         {"R89,99", 8999},      {"R1 299,00", 129900},
      {"R1,299.99", 129999}, {"1.299,99", 129999},  {"R 5", 500},          {"ZAR 12.5", 1250},
      {"r 0.99", 99},      {"R\xC2\xA0" "24.99", 2499}, {"  R 1 049.00 ", 104900}, {"R12", 1200},
  };
  for (const auto& c : cases) {
    auto r = ParseZarCents(c.in);
    ASSERT_TRUE(r.ok()) << c.in << ": " << r.status().ToString();
    EXPECT_EQ(r.value(), c.cents) << c.in;
  }
  for (const char* bad : {"", "R--", "-5.00", "R 0.00", "free", "12.99abc", "R", "1e5"}) {
    auto r = ParseZarCents(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  }
}

TEST(PackSize, SizeStrings) {
  struct Case {
    const char* in;
    int count;
    double each;
    BaseUnit unit;
  } cases[] = {
      {"6 x 330ml", 6, 330, BaseUnit::kMillilitre},  {"1.5kg", 1, 1500, BaseUnit::kGram},
      {"each", 1, 1, BaseUnit::kItem},               {"2L", 1, 2000, BaseUnit::kMillilitre},
      {"500 g", 1, 500, BaseUnit::kGram},            {"12 x 500ml", 12, 500, BaseUnit::kMillilitre},
      {"18's", 18, 1, BaseUnit::kItem},              {"4 pack", 4, 1, BaseUnit::kItem},
      {"2,5kg", 1, 2500, BaseUnit::kGram},           {"2 litres", 1, 2000, BaseUnit::kMillilitre},
      {"per kg", 1, 1000, BaseUnit::kGram},          {"36 x 36g", 36, 36, BaseUnit::kGram},
      {"6 \xC3\x97 1L", 6, 1000, BaseUnit::kMillilitre}, {"75cl", 1, 750, BaseUnit::kMillilitre},
      {"EACH", 1, 1, BaseUnit::kItem},               {"100's", 100, 1, BaseUnit::kItem},
  };
  for (const auto& c : cases) {
    auto r = ParsePackSize(c.in);
    ASSERT_TRUE(r.ok()) << c.in << ": " << r.status().ToString();
    EXPECT_EQ(r->count, c.count) << c.in;
    EXPECT_DOUBLE_EQ(r->amount_each, c.each) << c.in;
    EXPECT_EQ(r->unit, c.unit) << c.in;
  }
  for (const char* bad : {"", "large", "6 x", "kgs of fun", "330 ml bottle", "x 330ml"}) {
    EXPECT_FALSE(ParsePackSize(bad).ok()) << bad;
  }
}

TEST(PackSize, FromTitles) {
  struct Case {
    const char* title;
    std::optional<double> total;  // base units; nullopt: none found
    BaseUnit unit;
  } cases[] = {
      {"Coca-Cola Original Soft Drink 6 x 330ml", 1980, BaseUnit::kMillilitre},
      {"Clover Full Cream Fresh Milk 2L", 2000, BaseUnit::kMillilitre},
      {"Tastic Long Grain Parboiled Rice 2kg", 2000, BaseUnit::kGram},
      {"Nulaid Large Eggs 18's", 18, BaseUnit::kItem},
      {"Checkers Bananas Loose per kg", 1000, BaseUnit::kGram},
      {"Checkers Avocado each", 1, BaseUnit::kItem},
      {"7Up Lemonade 2L", 2000, BaseUnit::kMillilitre},
      {"Simba Salt & Vinegar Chips 120g", 120, BaseUnit::kGram},
      {"Lays Sour Cream & Onion Chips 36 x 36g", 1296, BaseUnit::kGram},
      {"Ace Super Maize Meal 10kg", 10000, BaseUnit::kGram},
      {"Selati White Sugar 2,5kg", 2500, BaseUnit::kGram},
      {"Jacobs Kronung Ground Coffee", std::nullopt, BaseUnit::kItem},
      {"Twinsaver Toilet Paper 2 Ply 9's", 9, BaseUnit::kItem},
      {"Five Roses Tea Bags 100's", 100, BaseUnit::kItem},
  };
  for (const auto& c : cases) {
    auto p = PackSizeFromTitle(c.title);
    if (!c.total) {
      EXPECT_FALSE(p.has_value()) << c.title;
      continue;
    }
    ASSERT_TRUE(p.has_value()) << c.title;
    EXPECT_DOUBLE_EQ(p->Total(), *c.total) << c.title;
    EXPECT_EQ(p->unit, c.unit) << c.title;
  }
}

TEST(UnitPrice, PerKgLitreItem) {
  auto litre = UnitPrice(8999, {6, 330, BaseUnit::kMillilitre});
  EXPECT_EQ(litre.first, 4545);
  EXPECT_STREQ(litre.second, "l");
  auto kg = UnitPrice(4999, {1, 1500, BaseUnit::kGram});
  EXPECT_EQ(kg.first, 3333);
  EXPECT_STREQ(kg.second, "kg");
  auto item = UnitPrice(5499, {18, 1, BaseUnit::kItem});
  EXPECT_EQ(item.first, 306);
  EXPECT_STREQ(item.second, "item");
}

TEST(MultiBuy, Labels) {
  EXPECT_EQ(MultiBuyUnitCents("2 for R30"), 1500);
  EXPECT_EQ(MultiBuyUnitCents("Buy 3 for R100"), 3333);
  EXPECT_EQ(MultiBuyUnitCents("Any 2 for R49.99"), 2500);
  EXPECT_FALSE(MultiBuyUnitCents("Xtra Savings").has_value());
  EXPECT_FALSE(MultiBuyUnitCents("for R30").has_value());
}

TEST(Normalize, Items) {
  RawItem coke{"sku-1", "Coca-Cola Original Soft Drink 6 x 330ml", "Coca-Cola", "beverages",
               "R 89.99", "R 79.99", "Xtra Savings", "", "IN_STOCK"};
  auto r = Normalize(coke);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->price_cents, 8999);
  EXPECT_EQ(r->promo_price_cents, 7999);
  EXPECT_EQ(r->unit_price_cents, 4545);
  EXPECT_EQ(r->unit_basis, "l");
  EXPECT_EQ(r->stock_level, "in_stock");

  RawItem multi{"sku-2", "Koo Baked Beans", "Koo", "pantry", "R18.99", "", "2 for R30", "410g", "false"};
  r = Normalize(multi);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->promo_price_cents, 1500);
  EXPECT_EQ(r->unit_price_cents, 4632);
  EXPECT_EQ(r->unit_basis, "kg");
  EXPECT_EQ(r->stock_level, "out_of_stock");

  // A "promotion" dearer than the shelf price is dropped; an unknown size leaves no unit price.
  RawItem odd{"sku-3", "Mystery Hamper", "", "pantry", "R 100", "R 120", "", "large", "LOW_STOCK"};
  r = Normalize(odd);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->promo_price_cents.has_value());
  EXPECT_FALSE(r->unit_price_cents.has_value());
  EXPECT_EQ(r->stock_level, "low_stock");

  EXPECT_FALSE(Normalize({"", "x", "", "c", "R1"}).ok());
  EXPECT_FALSE(Normalize({"sku-4", "", "", "c", "R1"}).ok());
  auto bad = Normalize({"sku-5", "Bread", "", "c", "R--"});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("sku-5"), std::string::npos);
}

// Every item the fixture retailer serves normalises, except the deliberately malformed ones, and
// every well-formed one has a unit price.
TEST(Normalize, FixtureCatalogue) {
  fixture::Catalogue cat({{"s", 2000}});
  int malformed = 0, ok = 0;
  for (const auto& c : fixture::Categories()) {
    auto page = ParseProductsPage(cat.Page("s", c.id, 0, 1000, 3).dump(), c.id);
    ASSERT_TRUE(page.ok());
    malformed += static_cast<int>(page->malformed.size());
    for (const auto& raw : page->items) {
      auto r = Normalize(raw);
      if (!r.ok()) {
        ++malformed;
        continue;
      }
      ++ok;
      EXPECT_TRUE(r->unit_price_cents.has_value()) << raw.title << " / " << raw.size;
    }
  }
  EXPECT_EQ(malformed, 2000 / 101);
  EXPECT_EQ(ok + malformed, 2000);
}

}  // namespace
}  // namespace tillless::ingest
