// The namespace RPCs as a unit of their own over a narrow interface (the model: Temporal's
// service/frontend namespace_handler.go over its metadata manager): RegisterNamespace,
// DescribeNamespace, ListNamespaces and UpdateNamespace, and recovery's namespaces (the stored
// ones, then `default` and the server's extra namespaces created where missing, with the
// server's --search-attribute registered). A namespace is a record (state.proto NamespaceRecord)
// the engine keeps by name and id; the unit owns no state: it reads and replaces those records
// through NamespacesEngine and writes them in the engine's transactions. The engine calls it with
// its mutex held (a MutexLock the unit releases before it answers); it never reads the store.
// DeleteNamespace is namespace_deletion.h's.
#pragma once

#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "common/thread_annotations.h"
#include "history/engine_context.h"
#include "history/state.pb.h"
#include "history/txn.h"
#include "persistence/store.h"
#include "temporal/api/workflowservice/v1/request_response.pb.h"
#include "visibility/search_attributes.h"

namespace temporalite::history {

// What Namespaces sees of the engine (the same calls the batch, namespace-deletion, signal and
// start units make; the engine implements each once). Under the engine mutex.
class NamespacesEngine {
 public:
  virtual ~NamespacesEngine() = default;
  // A namespace that takes requests, by name (Temporal's errors for a missing or deleted one).
  virtual Result<state::NamespaceRecord*> NamespaceByName(const std::string& name) = 0;
  // A namespace by name or by id, in any state (null: none).
  virtual state::NamespaceRecord* NamespaceNamed(const std::string& name) = 0;
  virtual state::NamespaceRecord* NamespaceById(const std::string& ns_id) = 0;
  // Every namespace, in any state, in no particular order.
  virtual std::vector<state::NamespaceRecord*> AllNamespaces() = 0;
  // Replaces the record of namespace `old_name` by `rec` (under rec's name and id); adds it when
  // there is none.
  virtual void ReplaceNamespace(const std::string& old_name, state::NamespaceRecord rec) = 0;
  // Submits `txn` (its namespace rows); `done` once it is durable.
  virtual void Commit(Txn& txn, Done done) = 0;
};

class Namespaces {
 public:
  struct Options {
    size_t max_id_length = 1000;
    Duration default_retention = std::chrono::hours(24);
    size_t blob_size_limit_error = 2 * 1024 * 1024;  // reported as the namespace's limits
    std::vector<std::string> extra_namespaces;       // created at recovery besides `default`
    visibility::TypeMap startup_search_attributes;   // registered at recovery where missing
  };

  Namespaces(NamespacesEngine& host, Options options) : host_(host), options_(std::move(options)) {}
  Namespaces(const Namespaces&) = delete;
  Namespaces& operator=(const Namespaces&) = delete;

  // The RPCs, called with the engine mutex held by `l`; each releases it before it answers (the
  // writes after their commit).
  // A new namespace: a valid name not taken by any namespace (ALREADY_EXISTS "Namespace already
  // exists."), the request's retention (Temporal's bounds: at least 1 h, capped at 250 years) or
  // the server's default, archival disabled.
  void Register(MutexLock& l, const ::temporal::api::workflowservice::v1::RegisterNamespaceRequest& req, Done done);
  // By id (any state), or by name: a namespace being deleted still describes (state Deleted).
  void Describe(MutexLock& l, const ::temporal::api::workflowservice::v1::DescribeNamespaceRequest& req,
                ::temporal::api::workflowservice::v1::DescribeNamespaceResponse* resp, Done done);
  // Every namespace in one page, by name (deleted ones only with include_deleted).
  void List(MutexLock& l, const ::temporal::api::workflowservice::v1::ListNamespacesRequest& req,
            ::temporal::api::workflowservice::v1::ListNamespacesResponse* resp, Done done);
  // Description, owner, data (merged), state and retention; the response is the updated record.
  void Update(MutexLock& l, const ::temporal::api::workflowservice::v1::UpdateNamespaceRequest& req,
              ::temporal::api::workflowservice::v1::UpdateNamespaceResponse* resp, Done done);

  // Recovery, under the engine mutex, before anything else runs: the stored namespaces (DATA_LOSS
  // for a corrupt record), then `default` and the extra namespaces created where missing and the
  // startup search attributes registered where missing. Returns the writes of what it created or
  // changed (the engine commits them before serving).
  Result<persistence::WriteBatch> Recover(const std::vector<persistence::NamespaceRow>& rows);

 private:
  NamespacesEngine& host_;
  const Options options_;
};

}  // namespace temporalite::history
