#include "ingest/migrations.h"

#include "ingest/db.h"

namespace tillless::ingest {
namespace {

struct Migration {
  int version;
  const char* name;
  const char* sql;
};

constexpr Migration kMigrations[] = {
    {1, "retailer_item_price", R"sql(
-- Identifiers are opaque: byte order (COLLATE "C") keeps their index comparisons cheap.
CREATE TABLE retailer_item_price (
  id                 bigserial PRIMARY KEY,
  retailer           text COLLATE "C" NOT NULL,
  store_id           text COLLATE "C" NOT NULL,
  item_id            text COLLATE "C" NOT NULL,
  run_id             text COLLATE "C" NOT NULL,
  title              text NOT NULL,
  brand              text NOT NULL DEFAULT '',
  category           text NOT NULL,
  price_cents        bigint NOT NULL CHECK (price_cents > 0),
  promo_price_cents  bigint,
  promo_label        text NOT NULL DEFAULT '',
  pack_count         integer,
  pack_amount        double precision,
  pack_unit          text,
  unit_price_cents   bigint,
  unit_basis         text,
  stock_level        text NOT NULL,
  previous_price_cents bigint,
  change_kind        text NOT NULL,
  observed_at        timestamptz NOT NULL DEFAULT now(),
  -- One row per item per run; run_id first so the run's summary and price changes use it too.
  UNIQUE (run_id, retailer, store_id, item_id)
);
CREATE TABLE retailer_item_latest (
  retailer          text COLLATE "C" NOT NULL,
  store_id          text COLLATE "C" NOT NULL,
  item_id           text COLLATE "C" NOT NULL,
  price_cents       bigint NOT NULL,
  promo_price_cents bigint,
  stock_level       text NOT NULL,
  last_run_id       text NOT NULL,
  updated_at        timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (retailer, store_id, item_id)
);
CREATE TABLE retailer_page_etag (
  retailer    text COLLATE "C" NOT NULL,
  store_id    text COLLATE "C" NOT NULL,
  category_id text COLLATE "C" NOT NULL,
  cursor      text COLLATE "C" NOT NULL,
  etag        text NOT NULL,
  next_cursor text NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (retailer, store_id, category_id, cursor)
);
CREATE TABLE ingest_run (
  run_id        text PRIMARY KEY,
  retailer      text COLLATE "C" NOT NULL,
  store_id      text COLLATE "C" NOT NULL,
  force_refresh boolean NOT NULL,
  started_at    timestamptz NOT NULL DEFAULT now(),
  finished_at   timestamptz,
  status        text NOT NULL DEFAULT 'running',
  summary       jsonb
);
)sql"},
    // pg-boss 10 has no dashboard(); the runbook's stuck-job check needs one. plpgsql resolves
    // pg-boss's tables when called, so this works before or after pg-boss installs its schema.
    {2, "pgboss_dashboard", R"sql(
CREATE SCHEMA IF NOT EXISTS pgboss;
CREATE FUNCTION pgboss.dashboard()
RETURNS TABLE (queue text, created bigint, retry bigint, active bigint, completed bigint,
               cancelled bigint, failed bigint, total bigint,
               oldest_active_id uuid, oldest_active_started_on timestamptz)
LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN QUERY
  SELECT q.name,
         count(j.id) FILTER (WHERE j.state = 'created'),
         count(j.id) FILTER (WHERE j.state = 'retry'),
         count(j.id) FILTER (WHERE j.state = 'active'),
         count(j.id) FILTER (WHERE j.state = 'completed'),
         count(j.id) FILTER (WHERE j.state = 'cancelled'),
         count(j.id) FILTER (WHERE j.state = 'failed'),
         count(j.id),
         (array_agg(j.id ORDER BY j.started_on) FILTER (WHERE j.state = 'active'))[1],
         min(j.started_on) FILTER (WHERE j.state = 'active')
  FROM pgboss.queue q LEFT JOIN pgboss.job j ON j.name = q.name
  GROUP BY q.name
  ORDER BY q.name;
END $$;
)sql"},
};

}  // namespace

int LatestMigrationVersion() { return kMigrations[std::size(kMigrations) - 1].version; }

Result<int> Migrate(pqxx::connection& conn) {
  try {
    int applied = 0;
    {
      pqxx::work w(conn);
      w.exec("SELECT pg_advisory_xact_lock(74617301)");
      w.exec("CREATE TABLE IF NOT EXISTS tillless_schema_migrations ("
             " version integer PRIMARY KEY, name text NOT NULL,"
             " applied_at timestamptz NOT NULL DEFAULT now())");
      w.commit();
    }
    for (const Migration& m : kMigrations) {
      pqxx::work w(conn);
      w.exec("SELECT pg_advisory_xact_lock(74617301)");
      int current = w.exec1("SELECT COALESCE(max(version), 0) FROM tillless_schema_migrations")[0].as<int>();
      if (current > LatestMigrationVersion()) {
        return FailedPrecondition("database schema version " + std::to_string(current) +
                                  " is newer than this build's " +
                                  std::to_string(LatestMigrationVersion()) + "; upgrade the worker");
      }
      if (m.version <= current) continue;
      w.exec(m.sql);
      w.exec_params("INSERT INTO tillless_schema_migrations (version, name) VALUES ($1, $2)",
                    m.version, std::string(m.name));
      w.commit();
      ++applied;
    }
    return applied;
  } catch (const std::exception& e) {
    return FromException(e);
  }
}

}  // namespace tillless::ingest
