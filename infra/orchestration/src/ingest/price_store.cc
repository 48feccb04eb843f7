#include "ingest/price_store.h"

#include <unordered_set>

namespace tillless::ingest {
namespace {

const char* UnitName(BaseUnit u) {
  switch (u) {
    case BaseUnit::kGram: return "g";
    case BaseUnit::kMillilitre: return "ml";
    case BaseUnit::kItem: return "each";
  }
  return "each";
}

// A PostgreSQL array literal, elements double-quoted ("NULL" unquoted for a null).
class ArrayLiteral {
 public:
  void Add(const std::string& v) {
    Sep();
    out_ += '"';
    for (char c : v) {
      if (c == '"' || c == '\\') out_ += '\\';
      out_ += c;
    }
    out_ += '"';
  }
  void AddRaw(const std::string& v) {
    Sep();
    out_ += v;
  }
  void AddNull() { AddRaw("NULL"); }
  std::string Finish() { return out_ + '}'; }

 private:
  void Sep() { out_ += out_.size() == 1 ? "" : ","; }
  std::string out_ = "{";
};

// One statement for every page: the page's columns arrive as 13 arrays (cheaper for the server
// to read than a VALUES list of literals, and the plan is reused).
constexpr const char* kWritePageSql = R"sql(
WITH i AS (
  SELECT * FROM unnest($4::text[], $5::text[], $6::text[], $7::text[], $8::bigint[], $9::bigint[],
                       $10::text[], $11::int[], $12::float8[], $13::text[], $14::bigint[], $15::text[],
                       $16::text[])
    AS t(item_id, title, brand, category, price_cents, promo_price_cents, promo_label, pack_count,
         pack_amount, pack_unit, unit_price_cents, unit_basis, stock_level)
),
ins AS (
  INSERT INTO retailer_item_price (retailer, store_id, run_id, item_id, title, brand, category,
      price_cents, promo_price_cents, promo_label, pack_count, pack_amount, pack_unit,
      unit_price_cents, unit_basis, stock_level, previous_price_cents, change_kind)
  SELECT $1, $2, $3, i.item_id, i.title, i.brand, i.category, i.price_cents, i.promo_price_cents,
         i.promo_label, i.pack_count, i.pack_amount, i.pack_unit, i.unit_price_cents, i.unit_basis,
         i.stock_level, l.price_cents,
         CASE WHEN l.item_id IS NULL THEN 'new'
              WHEN (l.price_cents, l.promo_price_cents, l.stock_level) IS DISTINCT FROM
                   (i.price_cents, i.promo_price_cents, i.stock_level) THEN 'changed'
              ELSE 'unchanged' END
  FROM i LEFT JOIN retailer_item_latest l
    ON l.retailer = $1 AND l.store_id = $2 AND l.item_id = i.item_id
  WHERE $17::boolean OR l.item_id IS NULL
     OR (l.price_cents, l.promo_price_cents, l.stock_level) IS DISTINCT FROM
        (i.price_cents, i.promo_price_cents, i.stock_level)
  ON CONFLICT (run_id, retailer, store_id, item_id) DO NOTHING
  RETURNING item_id, price_cents, promo_price_cents, stock_level, change_kind
),
up AS (
  INSERT INTO retailer_item_latest (retailer, store_id, item_id, price_cents, promo_price_cents,
                                    stock_level, last_run_id)
  SELECT $1, $2, item_id, price_cents, promo_price_cents, stock_level, $3 FROM ins
  ON CONFLICT (retailer, store_id, item_id) DO UPDATE SET
    price_cents = EXCLUDED.price_cents, promo_price_cents = EXCLUDED.promo_price_cents,
    stock_level = EXCLUDED.stock_level, last_run_id = EXCLUDED.last_run_id, updated_at = now()
)
SELECT count(*), count(*) FILTER (WHERE change_kind = 'changed') FROM ins
)sql";

}  // namespace

Status PriceStore::BeginRun(const RunKey& run, bool force_refresh) {
  return pool_.With([&](pqxx::connection& c) {
    pqxx::work w(c);
    w.exec_params("INSERT INTO ingest_run (run_id, retailer, store_id, force_refresh) VALUES ($1,$2,$3,$4)"
                  " ON CONFLICT (run_id) DO UPDATE SET status = 'running', finished_at = NULL",
                  run.run_id, run.retailer, run.store_id, force_refresh);
    w.commit();
    return Status::Ok();
  });
}

Status PriceStore::FinishRun(const RunKey& run, const std::string& status,
                             const std::string& summary_json) {
  return pool_.With([&](pqxx::connection& c) {
    pqxx::work w(c);
    w.exec_params("UPDATE ingest_run SET status = $2, finished_at = now(), summary = $3::jsonb"
                  " WHERE run_id = $1",
                  run.run_id, status, summary_json);
    w.commit();
    return Status::Ok();
  });
}

Result<std::vector<PriceChange>> PriceStore::PriceChanges(const RunKey& run) {
  std::vector<PriceChange> out;
  Status s = pool_.With([&](pqxx::connection& c) {
    pqxx::read_transaction r(c);
    auto res = r.exec_params(
        "SELECT item_id, title, previous_price_cents, price_cents, promo_price_cents,"
        " md5(retailer || '/' || store_id || '/' || run_id || '/' || item_id)::uuid::text"
        " FROM retailer_item_price WHERE run_id = $1 AND retailer = $2 AND store_id = $3"
        " AND change_kind = 'changed' AND previous_price_cents IS DISTINCT FROM price_cents"
        " ORDER BY item_id",
        run.run_id, run.retailer, run.store_id);
    for (const auto& row : res) {
      PriceChange ch{row[0].c_str(), row[1].c_str(), row[2].as<int64_t>(), row[3].as<int64_t>(),
                     std::nullopt, row[5].c_str()};
      if (!row[4].is_null()) ch.promo_price_cents = row[4].as<int64_t>();
      out.push_back(std::move(ch));
    }
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return out;
}

Result<RunCounts> PriceStore::Counts(const RunKey& run) {
  RunCounts out;
  Status s = pool_.With([&](pqxx::connection& c) {
    pqxx::read_transaction r(c);
    auto row = r.exec_params1(
        "SELECT count(*), count(*) FILTER (WHERE change_kind = 'changed'),"
        " count(*) FILTER (WHERE change_kind = 'new') FROM retailer_item_price"
        " WHERE run_id = $1 AND retailer = $2 AND store_id = $3",
        run.run_id, run.retailer, run.store_id);
    out = {row[0].as<int64_t>(), row[1].as<int64_t>(), row[2].as<int64_t>()};
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return out;
}

Result<std::optional<SavedPage>> PriceStore::LookupPage(const RunKey& run, const PageKey& page) {
  std::optional<SavedPage> out;
  Status s = pool_.With([&](pqxx::connection& c) {
    pqxx::read_transaction r(c);
    auto res = r.exec_params("SELECT etag, next_cursor FROM retailer_page_etag WHERE retailer=$1"
                             " AND store_id=$2 AND category_id=$3 AND cursor=$4",
                             run.retailer, run.store_id, page.category_id, page.cursor);
    if (!res.empty()) out = SavedPage{res[0][0].c_str(), res[0][1].c_str()};
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return out;
}

Result<WriteResult> PriceStore::WritePage(const RunKey& run, const std::vector<PriceRecord>& records,
                                          bool force_refresh, const PageKey& page,
                                          const std::optional<SavedPage>& etag) {
  ArrayLiteral id, title, brand, category, price, promo, label, count, amount, unit, unit_price,
      basis, stock;
  std::unordered_set<std::string> seen;
  for (const PriceRecord& r : records) {
    if (!seen.insert(r.item_id).second) continue;  // the retailer repeated an item
    id.Add(r.item_id);
    title.Add(r.title);
    brand.Add(r.brand);
    category.Add(r.category);
    price.AddRaw(std::to_string(r.price_cents));
    if (r.promo_price_cents) promo.AddRaw(std::to_string(*r.promo_price_cents));
    else promo.AddNull();
    label.Add(r.promo_label);
    if (r.pack) {
      char buf[64];
      snprintf(buf, sizeof buf, "%.6g", r.pack->amount_each);
      count.AddRaw(std::to_string(r.pack->count));
      amount.AddRaw(buf);
      unit.Add(UnitName(r.pack->unit));
    } else {
      count.AddNull();
      amount.AddNull();
      unit.AddNull();
    }
    if (r.unit_price_cents) unit_price.AddRaw(std::to_string(*r.unit_price_cents));
    else unit_price.AddNull();
    if (r.unit_basis.empty()) basis.AddNull();
    else basis.Add(r.unit_basis);
    stock.Add(r.stock_level);
  }
  WriteResult result;
  Status s = pool_.With([&](pqxx::connection& c) {
    pqxx::work w(c);
    if (!seen.empty()) {
      auto row = w.exec_params1(kWritePageSql, run.retailer, run.store_id, run.run_id, id.Finish(),
                                title.Finish(), brand.Finish(), category.Finish(), price.Finish(),
                                promo.Finish(), label.Finish(), count.Finish(), amount.Finish(),
                                unit.Finish(), unit_price.Finish(), basis.Finish(), stock.Finish(),
                                force_refresh);
      result.written = row[0].as<int>();
      result.changed = row[1].as<int>();
    }
    if (etag && !etag->etag.empty()) {
      w.exec_params("INSERT INTO retailer_page_etag (retailer, store_id, category_id, cursor, etag, next_cursor)"
                    " VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT (retailer, store_id, category_id, cursor)"
                    " DO UPDATE SET etag = EXCLUDED.etag, next_cursor = EXCLUDED.next_cursor, updated_at = now()",
                    run.retailer, run.store_id, page.category_id, page.cursor, etag->etag, etag->next_cursor);
    }
    w.commit();
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return result;
}

}  // namespace tillless::ingest
