// temporalite operator namespace create | describe | list | update | delete
// temporalite operator search-attribute create | list | remove
#include <algorithm>

#include "cli/client.h"
#include "cli/commands.h"
#include "cli/format.h"
#include "cli/output.h"
#include "common/namespace_name.h"

namespace temporalite::cli {
namespace {

namespace wsv1 = temporal::api::workflowservice::v1;
namespace osv1 = temporal::api::operatorservice::v1;
namespace enums = temporal::api::enums::v1;

// The namespace a namespace command acts on: -n, or the (deprecated) positional argument.
std::string NamespaceName(Context& ctx, const std::string& positional) {
  if (positional.empty()) return ctx.ns();
  if (ctx.ns() != "default") {
    throw UsageError("namespace was provided as both an argument (" + positional + ") and a flag (-n " + ctx.ns() +
                     "); please specify namespace only with -n");
  }
  Message("Warning: Passing the namespace as an argument is deprecated; please use -n instead");
  return positional;
}

enums::ArchivalState Archival(const std::string& s) {
  if (s == "enabled") return enums::ARCHIVAL_STATE_ENABLED;
  if (s == "disabled") return enums::ARCHIVAL_STATE_DISABLED;
  return enums::ARCHIVAL_STATE_UNSPECIFIED;
}

std::string MapText(const google::protobuf::Map<std::string, std::string>& m) {
  std::vector<std::pair<std::string, std::string>> kv(m.begin(), m.end());
  std::sort(kv.begin(), kv.end());
  Json j = Json::object();
  for (const auto& [k, v] : kv) j[k] = v;
  return CompactJson(j);
}

void PrintNamespaceCard(Printer& out, const wsv1::DescribeNamespaceResponse& r) {
  Json clusters = Json::array();
  for (const auto& c : r.replication_config().clusters()) clusters.push_back(c.cluster_name());
  Json failovers = Json::array();
  for (const auto& f : r.failover_history()) failovers.push_back(ProtoJson(f));
  out.Card({
      {"NamespaceInfo.Name", r.namespace_info().name()},
      {"NamespaceInfo.Id", r.namespace_info().id()},
      {"NamespaceInfo.Description", r.namespace_info().description()},
      {"NamespaceInfo.OwnerEmail", r.namespace_info().owner_email()},
      {"NamespaceInfo.State", EnumName(r.namespace_info().state())},
      {"NamespaceInfo.Data", MapText(r.namespace_info().data())},
      {"Config.WorkflowExecutionRetentionTtl",
       FormatDuration(FromProto(r.config().workflow_execution_retention_ttl()))},
      {"ReplicationConfig.ActiveClusterName", r.replication_config().active_cluster_name()},
      {"ReplicationConfig.Clusters", CompactJson(clusters)},
      {"ReplicationConfig.State", EnumName(r.replication_config().state())},
      {"Config.HistoryArchivalState", EnumName(r.config().history_archival_state())},
      {"Config.VisibilityArchivalState", EnumName(r.config().visibility_archival_state())},
      {"IsGlobalNamespace", r.is_global_namespace() ? "true" : "false"},
      {"FailoverVersion", std::to_string(r.failover_version())},
      {"FailoverHistory", CompactJson(failovers)},
      {"Config.HistoryArchivalUri", r.config().history_archival_uri()},
      {"Config.VisibilityArchivalUri", r.config().visibility_archival_uri()},
      {"Config.CustomSearchAttributeAliases", MapText(r.config().custom_search_attribute_aliases())},
  });
}

struct NamespaceFlags {
  std::string positional;
  std::string active_cluster;
  std::vector<std::string> clusters;
  std::vector<std::string> data;
  std::string description;
  std::string email;
  bool global = false;
  bool promote_global = false;
  std::string history_archival_state;
  std::string history_uri;
  std::string retention;
  std::string visibility_archival_state;
  std::string visibility_uri;
  std::string replication_state;
  std::string namespace_id;
  bool yes = false;
};

void RunCreate(Context& ctx, const NamespaceFlags& f) {
  std::string name = NamespaceName(ctx, f.positional);
  wsv1::RegisterNamespaceRequest req;
  req.set_namespace_(name);
  req.set_description(f.description);
  req.set_owner_email(f.email);
  *req.mutable_workflow_execution_retention_period() =
      ToProtoDuration(ParseDuration(f.retention.empty() ? "72h" : f.retention, "--retention"));
  for (const std::string& c : f.clusters) req.add_clusters()->set_cluster_name(c);
  req.set_active_cluster_name(f.active_cluster);
  for (auto& [k, v] : KeyValues(f.data, "--data")) (*req.mutable_data())[k] = v;
  req.set_is_global_namespace(f.global);
  req.set_history_archival_state(Archival(f.history_archival_state.empty() ? "disabled" : f.history_archival_state));
  req.set_history_archival_uri(f.history_uri);
  req.set_visibility_archival_state(
      Archival(f.visibility_archival_state.empty() ? "disabled" : f.visibility_archival_state));
  req.set_visibility_archival_uri(f.visibility_uri);
  Connection& c = ctx.conn();
  c.Call(c.workflow(), &Connection::WorkflowStub::RegisterNamespace, "RegisterNamespace", req,
         "unable to create namespace " + EscapeControlCharacters(name));
  Printer& out = ctx.out();
  if (out.json()) out.PrintJson(Json{{"namespace", name}, {"registered", true}});
  else out.Line(out.Paint(Style::kGreen, "Namespace " + name + " successfully registered."));
}

void RunDescribe(Context& ctx, const NamespaceFlags& f) {
  std::string name = NamespaceName(ctx, f.positional);
  // "default" may just be the flag's default: an explicit --namespace-id then wins.
  if (name == "default" && !f.namespace_id.empty()) name.clear();
  if (!name.empty() && !f.namespace_id.empty()) {
    throw UsageError("provide one of --namespace-id or -n, but not both");
  }
  wsv1::DescribeNamespaceRequest req;
  req.set_namespace_(name);
  req.set_id(f.namespace_id);
  Connection& c = ctx.conn();
  auto resp = c.Call(c.workflow(), &Connection::WorkflowStub::DescribeNamespace, "DescribeNamespace", req,
                     "unable to describe namespace " + (name.empty() ? f.namespace_id : name));
  if (ctx.out().json()) ctx.out().PrintJson(ProtoJson(resp));
  else PrintNamespaceCard(ctx.out(), resp);
}

void RunList(Context& ctx) {
  Printer& out = ctx.out();
  Connection& c = ctx.conn();
  out.StartList();
  wsv1::ListNamespacesRequest req;
  req.set_page_size(100);
  bool first = true;
  for (;;) {
    auto resp = c.Call(c.workflow(), &Connection::WorkflowStub::ListNamespaces, "ListNamespaces", req,
                       "failed listing namespaces");
    for (const auto& ns : resp.namespaces()) {
      if (out.json()) {
        out.ListItem(ProtoJson(ns));
      } else {
        if (!first) out.Line();
        PrintNamespaceCard(out, ns);
      }
      first = false;
    }
    if (resp.next_page_token().empty()) break;
    req.set_next_page_token(resp.next_page_token());
  }
  out.EndList();
}

void RunUpdate(Context& ctx, const NamespaceFlags& f) {
  std::string name = NamespaceName(ctx, f.positional);
  if (f.promote_global && !f.active_cluster.empty()) {
    throw UsageError("--promote-global and --active-cluster cannot be set together");
  }
  wsv1::UpdateNamespaceRequest req;
  req.set_namespace_(name);
  Connection& c = ctx.conn();
  if (f.promote_global) {
    Message("Will promote local namespace to global namespace for " + name +
            "; other flags are ignored. If it is already global, this is a no-op.");
    req.set_promote_namespace(true);
  } else if (!f.active_cluster.empty()) {
    Message("Will set active cluster name to " + f.active_cluster + "; other flags are ignored.");
    req.mutable_replication_config()->set_active_cluster_name(f.active_cluster);
  } else {
    wsv1::DescribeNamespaceRequest dreq;
    dreq.set_namespace_(name);
    auto cur = c.Call(c.workflow(), &Connection::WorkflowStub::DescribeNamespace, "DescribeNamespace", dreq,
                      "namespace update failed");
    auto* info = req.mutable_update_info();
    info->set_description(f.description.empty() ? cur.namespace_info().description() : f.description);
    info->set_owner_email(f.email.empty() ? cur.namespace_info().owner_email() : f.email);
    for (auto& [k, v] : KeyValues(f.data, "--data")) (*info->mutable_data())[k] = v;
    auto* config = req.mutable_config();
    *config->mutable_workflow_execution_retention_ttl() =
        f.retention.empty() ? cur.config().workflow_execution_retention_ttl()
                            : ToProtoDuration(ParseDuration(f.retention, "--retention"));
    config->set_history_archival_state(Archival(f.history_archival_state));
    config->set_history_archival_uri(f.history_uri);
    config->set_visibility_archival_state(Archival(f.visibility_archival_state));
    config->set_visibility_archival_uri(f.visibility_uri);
    if (!f.clusters.empty() || !f.replication_state.empty()) {
      auto* rc = req.mutable_replication_config();
      for (const std::string& cl : f.clusters) rc->add_clusters()->set_cluster_name(cl);
      if (f.replication_state == "normal") rc->set_state(enums::REPLICATION_STATE_NORMAL);
      if (f.replication_state == "handover") rc->set_state(enums::REPLICATION_STATE_HANDOVER);
    }
  }
  auto resp = c.Call(c.workflow(), &Connection::WorkflowStub::UpdateNamespace, "UpdateNamespace", req,
                     "namespace update failed");
  Printer& out = ctx.out();
  if (out.json()) out.PrintJson(ProtoJson(resp));
  else out.Line(out.Paint(Style::kGreen, "Namespace " + name + " update succeeded."));
}

void RunDelete(Context& ctx, const NamespaceFlags& f) {
  std::string name = NamespaceName(ctx, f.positional);
  if (!ctx.ConfirmTyped("Are you sure you want to delete namespace " + name + "? Type namespace name to confirm:", name,
                        f.yes)) {
    throw CommandError("user denied confirmation or mistyped the namespace name");
  }
  osv1::DeleteNamespaceRequest req;
  req.set_namespace_(name);
  Connection& c = ctx.conn();
  auto resp = c.Call(c.operator_service(), &Connection::OperatorStub::DeleteNamespace, "DeleteNamespace", req,
                     "unable to delete namespace " + name);
  Printer& out = ctx.out();
  if (out.json()) out.PrintJson(ProtoJson(resp));
  else out.Line(out.Paint(Style::kGreen, "Namespace " + name + " has been deleted."));
}

void AddNamespaceSettingFlags(CLI::App* cmd, NamespaceFlags* f, bool create) {
  cmd->add_option("namespace", f->positional, "Namespace name (deprecated: use -n)");
  cmd->add_option("--active-cluster", f->active_cluster, "Active Cluster (Service) name");
  cmd->add_option("--cluster", f->clusters, "Cluster (Service) names. Can be passed multiple times.");
  cmd->add_option("--data", f->data, "Namespace data as KEY=VALUE pairs. Can be passed multiple times.")
      ->type_name("KEY=VALUE");
  cmd->add_option("--description", f->description, "Namespace description");
  cmd->add_option("--email", f->email, "Owner email");
  cmd->add_option("--history-archival-state", f->history_archival_state, "History archival state")
      ->check(CLI::IsMember({"disabled", "enabled"}));
  cmd->add_option("--history-uri", f->history_uri, "Archive history to this URI (can't be changed once enabled)");
  cmd->add_option("--retention", f->retention,
                  create ? "Time to preserve closed Workflows before deletion (default 72h)"
                         : "Time to preserve closed Workflows before deletion")
      ->type_name("DURATION");
  cmd->add_option("--visibility-archival-state", f->visibility_archival_state, "Visibility archival state")
      ->check(CLI::IsMember({"disabled", "enabled"}));
  cmd->add_option("--visibility-uri", f->visibility_uri,
                  "Archive visibility data to this URI (can't be changed once enabled)");
  if (create) {
    cmd->add_flag("--global", f->global, "Enable multi-region data replication");
  } else {
    cmd->add_flag("--promote-global", f->promote_global, "Enable multi-region data replication");
    cmd->add_option("--replication-state", f->replication_state, "Replication state")
        ->check(CLI::IsMember({"normal", "handover"}));
  }
}

void RegisterNamespaceCommands(CLI::App* op, int* exit_code) {
  CLI::App* ns = AddGroup(op, "namespace", "Namespace operations",
                          "Manage Temporal Namespaces:\n\n"
                          "  temporalite operator namespace create \\\n"
                          "      --namespace YourNewNamespaceName\n");
  {
    auto f = std::make_shared<NamespaceFlags>();
    CLI::App* cmd = AddCommand(ns, "create", "Register a new Namespace",
                               "Create a new Namespace:\n\n"
                               "  temporalite operator namespace create \\\n"
                               "      --namespace YourNewNamespaceName \\\n"
                               "      --retention 5d \\\n"
                               "      --description \"Checkers ingestion\"\n",
                               exit_code, [f](Context& ctx) { RunCreate(ctx, *f); });
    AddNamespaceSettingFlags(cmd, f.get(), true);
  }
  {
    auto f = std::make_shared<NamespaceFlags>();
    CLI::App* cmd = AddCommand(ns, "describe", "Describe a Namespace",
                               "Show a Namespace identified by its name or ID:\n\n"
                               "  temporalite operator namespace describe \\\n"
                               "      --namespace YourNamespaceName\n\n"
                               "  temporalite operator namespace describe \\\n"
                               "      --namespace-id YourNamespaceId\n",
                               exit_code, [f](Context& ctx) { RunDescribe(ctx, *f); });
    cmd->add_option("namespace", f->positional, "Namespace name (deprecated: use -n)");
    cmd->add_option("--namespace-id", f->namespace_id, "Namespace ID");
  }
  AddCommand(ns, "list", "List Namespaces",
             "Display a detailed listing for all Namespaces on the Service:\n\n"
             "  temporalite operator namespace list\n",
             exit_code, [](Context& ctx) { RunList(ctx); });
  {
    auto f = std::make_shared<NamespaceFlags>();
    CLI::App* cmd = AddCommand(ns, "update", "Update a Namespace",
                               "Update a Namespace using the properties you specify:\n\n"
                               "  temporalite operator namespace update \\\n"
                               "      --namespace YourNamespaceName \\\n"
                               "      --retention 7d \\\n"
                               "      --description \"New description\"\n",
                               exit_code, [f](Context& ctx) { RunUpdate(ctx, *f); });
    AddNamespaceSettingFlags(cmd, f.get(), false);
  }
  {
    auto f = std::make_shared<NamespaceFlags>();
    CLI::App* cmd = AddCommand(ns, "delete", "Delete a Namespace",
                               "Remove a Namespace from the Service (asks to type its name unless --yes):\n\n"
                               "  temporalite operator namespace delete \\\n"
                               "      --namespace YourNamespaceName\n",
                               exit_code, [f](Context& ctx) { RunDelete(ctx, *f); });
    cmd->add_option("namespace", f->positional, "Namespace name (deprecated: use -n)");
    cmd->add_flag("-y,--yes", f->yes, "Don't prompt to confirm deletion");
  }
}

struct SearchAttributeFlags {
  std::vector<std::string> names;
  std::vector<std::string> types;
  bool yes = false;
};

osv1::ListSearchAttributesResponse ListSearchAttributes(Context& ctx, const std::string& what) {
  osv1::ListSearchAttributesRequest req;
  req.set_namespace_(ctx.ns());
  Connection& c = ctx.conn();
  return c.Call(c.operator_service(), &Connection::OperatorStub::ListSearchAttributes, "ListSearchAttributes", req,
                what);
}

void RunSaCreate(Context& ctx, const SearchAttributeFlags& f) {
  if (f.names.size() != f.types.size()) {
    throw UsageError("pass one --type for each --name (" + std::to_string(f.names.size()) + " names, " +
                     std::to_string(f.types.size()) + " types)");
  }
  auto existing = ListSearchAttributes(ctx, "unable to get existing search attributes");
  osv1::AddSearchAttributesRequest req;
  req.set_namespace_(ctx.ns());
  for (size_t i = 0; i < f.names.size(); ++i) {
    int v = 0;
    if (!ParseEnumName(enums::IndexedValueType_descriptor(), f.types[i], &v) || v == 0) {
      throw UsageError("unsupported search attribute type \"" + f.types[i] + "\"");
    }
    auto it = existing.custom_attributes().find(f.names[i]);
    if (it != existing.custom_attributes().end() && it->second != v) {
      throw CommandError("search attribute " + f.names[i] + " already exists and has different type " +
                         EnumName(static_cast<enums::IndexedValueType>(it->second)));
    }
    (*req.mutable_search_attributes())[f.names[i]] = static_cast<enums::IndexedValueType>(v);
  }
  Connection& c = ctx.conn();
  c.Call(c.operator_service(), &Connection::OperatorStub::AddSearchAttributes, "AddSearchAttributes", req,
         "unable to add search attributes");
  Printer& out = ctx.out();
  if (out.json()) out.PrintJson(Json{{"added", f.names}});
  else out.Line(out.Paint(Style::kGreen, "Search attributes have been added"));
}

void RunSaList(Context& ctx) {
  auto resp = ListSearchAttributes(ctx, "unable to list search attributes");
  Printer& out = ctx.out();
  if (out.json()) {
    out.PrintJson(ProtoJson(resp));
    return;
  }
  auto rows_of = [](const google::protobuf::Map<std::string, enums::IndexedValueType>& m) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& [name, type] : m) rows.push_back({name, EnumName(type)});
    std::sort(rows.begin(), rows.end());
    return rows;
  };
  auto rows = rows_of(resp.system_attributes());
  auto custom = rows_of(resp.custom_attributes());
  rows.insert(rows.end(), custom.begin(), custom.end());
  out.Table({{"Name"}, {"Type"}}, rows);
}

void RunSaRemove(Context& ctx, const SearchAttributeFlags& f) {
  std::string names;
  for (const std::string& n : f.names) names += (names.empty() ? "" : ", ") + n;
  if (!ctx.Confirm("You are about to remove search attribute(s) " + names + ". Continue? y/N", f.yes)) {
    throw CommandError("user denied confirmation, operation aborted");
  }
  osv1::RemoveSearchAttributesRequest req;
  req.set_namespace_(ctx.ns());
  for (const std::string& n : f.names) req.add_search_attributes(n);
  Connection& c = ctx.conn();
  c.Call(c.operator_service(), &Connection::OperatorStub::RemoveSearchAttributes, "RemoveSearchAttributes", req,
         "unable to remove search attributes");
  Printer& out = ctx.out();
  if (out.json()) out.PrintJson(Json{{"removed", f.names}});
  else out.Line(out.Paint(Style::kGreen, "Search attributes have been removed"));
}

void RegisterSearchAttributeCommands(CLI::App* op, int* exit_code) {
  CLI::App* sa = AddGroup(op, "search-attribute", "Search Attribute operations",
                          "Create, list, or remove Search Attributes (Text, Keyword, Int, Double, Bool,\n"
                          "Datetime, KeywordList):\n\n"
                          "  temporalite operator search-attribute create \\\n"
                          "      --name YourAttributeName \\\n"
                          "      --type Keyword\n");
  {
    auto f = std::make_shared<SearchAttributeFlags>();
    CLI::App* cmd = AddCommand(sa, "create", "Add custom Search Attributes",
                               "  temporalite operator search-attribute create \\\n"
                               "      --name YourAttributeName \\\n"
                               "      --type Keyword\n",
                               exit_code, [f](Context& ctx) { RunSaCreate(ctx, *f); });
    cmd->add_option("--name", f->names, "Search Attribute name. Can be passed multiple times.")->required();
    cmd->add_option("--type", f->types, "Search Attribute type, one per --name")
        ->required()
        ->check(CLI::IsMember({"Text", "Keyword", "Int", "Double", "Bool", "Datetime", "KeywordList"},
                              CLI::ignore_case));
  }
  AddCommand(sa, "list", "List Search Attributes",
             "  temporalite operator search-attribute list\n", exit_code, [](Context& ctx) { RunSaList(ctx); });
  {
    auto f = std::make_shared<SearchAttributeFlags>();
    CLI::App* cmd = AddCommand(sa, "remove", "Remove custom Search Attributes",
                               "  temporalite operator search-attribute remove \\\n"
                               "      --name YourAttributeName \\\n"
                               "      --yes\n",
                               exit_code, [f](Context& ctx) { RunSaRemove(ctx, *f); });
    cmd->add_option("--name", f->names, "Search Attribute name. Can be passed multiple times.")->required();
    cmd->add_flag("-y,--yes", f->yes, "Don't prompt to confirm removal");
  }
}

}  // namespace

void RegisterOperatorCommands(CLI::App* app, int* exit_code) {
  CLI::App* op = AddGroup(app, "operator", "Manage Temporal deployments",
                          "Operator commands manage Namespaces and Search Attributes:\n\n"
                          "  temporalite operator [command] [subcommand] [options]\n\n"
                          "For example:\n\n"
                          "  temporalite operator namespace list\n");
  RegisterNamespaceCommands(op, exit_code);
  RegisterSearchAttributeCommands(op, exit_code);
}

}  // namespace temporalite::cli
