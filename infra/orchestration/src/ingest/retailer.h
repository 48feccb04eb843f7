// The seam every retailer implements: categories of a store and catalogue pages by cursor.
// Implementations are thread-safe (categories are fetched concurrently).
#pragma once

#include <string>
#include <vector>

#include "ingest/normalize.h"
#include "ingest/status.h"

namespace tillless::ingest {

struct Category {
  std::string id;
  std::string name;
};

struct PageRequest {
  std::string store_id;
  std::string category_id;
  std::string cursor;         // empty: the first page
  std::string if_none_match;  // an ETag from an earlier run: the retailer may answer "not modified"
};

struct Page {
  bool not_modified = false;   // the page has the ETag sent; items and next_cursor are empty
  std::vector<RawItem> items;  // well-formed JSON shapes, not yet normalised
  std::vector<std::string> malformed;  // items the retailer sent that are not item objects
  std::string next_cursor;     // empty on the last page
  std::string etag;
};

class Retailer {
 public:
  virtual ~Retailer() = default;
  // Stable name stored with each price row ("checkers-sixty60").
  virtual std::string Name() const = 0;
  virtual Result<std::vector<Category>> ListCategories(const std::string& store_id) = 0;
  virtual Result<Page> FetchPage(const PageRequest& request) = 0;
};

}  // namespace tillless::ingest
