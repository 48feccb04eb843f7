#include "server/config_file.h"

#include <yaml-cpp/yaml.h>

#include <set>

namespace temporalite::server {

Result<std::vector<std::string>> ConfigFileArgs(const std::string& path, const CLI::App& cmd,
                                                const std::vector<std::string>& given) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    return InvalidArgument("cannot read config file " + path + ": " + e.what());
  }
  if (root.IsNull()) return std::vector<std::string>{};
  if (!root.IsMap()) return InvalidArgument("config file " + path + ": want a mapping of flag names to values");

  // Long names of the flags set on the command line (short forms mapped to their long name).
  std::set<std::string> on_command_line;
  for (const std::string& a : given) {
    for (const CLI::Option* o : cmd.get_options()) {
      for (const std::string& l : o->get_lnames()) {
        if (a == "--" + l || a.rfind("--" + l + "=", 0) == 0) on_command_line.insert(l);
      }
      for (const std::string& s : o->get_snames()) {
        if (a == "-" + s || (a.size() > 2 && a.rfind("-" + s, 0) == 0 && a[1] != '-')) {
          if (!o->get_lnames().empty()) on_command_line.insert(o->get_lnames()[0]);
        }
      }
    }
  }

  std::vector<std::string> args;
  for (const auto& kv : root) {
    const std::string key = kv.first.as<std::string>();
    const CLI::Option* opt = nullptr;
    for (const CLI::Option* o : cmd.get_options()) {
      for (const std::string& l : o->get_lnames()) {
        if (l == key && l != "help" && l != "config") opt = o;
      }
    }
    if (opt == nullptr) {
      return InvalidArgument("config file " + path + ": unknown key \"" + key +
                             "\" (keys are the long flag names of `temporalite server start-dev`, e.g. port, db-filename)");
    }
    if (on_command_line.count(key)) continue;  // the flag wins
    const YAML::Node& v = kv.second;
    const bool is_flag = opt->get_type_size() == 0;
    const bool is_list = opt->get_items_expected_max() > 1;
    if (is_flag) {
      bool on = false;
      try {
        on = v.as<bool>();
      } catch (const YAML::Exception&) {
        return InvalidArgument("config file " + path + ": \"" + key + "\" is a switch: want true or false");
      }
      if (on) args.push_back("--" + key);
      continue;
    }
    if (v.IsSequence()) {
      if (!is_list) return InvalidArgument("config file " + path + ": \"" + key + "\" takes one value, not a list");
      for (const auto& item : v) {
        if (!item.IsScalar()) return InvalidArgument("config file " + path + ": \"" + key + "\" wants a list of values");
        args.push_back("--" + key);
        args.push_back(item.as<std::string>());
      }
      continue;
    }
    if (!v.IsScalar()) return InvalidArgument("config file " + path + ": \"" + key + "\" wants a value");
    args.push_back("--" + key);
    args.push_back(v.as<std::string>());
  }
  return args;
}

}  // namespace temporalite::server
