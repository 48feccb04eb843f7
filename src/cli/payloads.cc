#include "cli/payloads.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "cli/command.h"
#include "cli/format.h"

namespace temporalite::cli {

using temporal::api::common::v1::Payload;
using temporal::api::common::v1::Payloads;

void AddPayloadInputFlags(CLI::App* cmd, PayloadInput* in, const std::string& prefix) {
  std::string input_names = prefix == "input" ? "-i,--input" : "--" + prefix;
  std::string what = prefix == "input" ? "Input" : "Input for the " + prefix.substr(0, prefix.find('-'));
  cmd->add_option(input_names, in->input,
                  what + " value: JSON unless --" + prefix +
                      "-meta sets another encoding. Can be passed multiple times to pass multiple "
                      "arguments. Can't be combined with --" + prefix + "-file.")
      ->type_name("JSON");
  cmd->add_option("--" + prefix + "-file", in->input_file,
                  "Path of a file holding one input value (JSON by default). Can be passed multiple times.")
      ->type_name("PATH");
  cmd->add_option("--" + prefix + "-meta", in->input_meta,
                  "Payload metadata as KEY=VALUE. When KEY is \"encoding\", overrides the default "
                  "(\"json/plain\"). Can be passed multiple times; repeated keys apply to the inputs in order.")
      ->type_name("KEY=VALUE");
  cmd->add_flag("--" + prefix + "-base64", in->input_base64, "Assume inputs are base64-encoded and decode them.");
}

Payloads BuildPayloads(const PayloadInput& in, const std::string& prefix) {
  if (!in.input.empty() && !in.input_file.empty()) {
    throw UsageError("cannot combine --" + prefix + " and --" + prefix + "-file");
  }
  std::vector<std::string> data = in.input;
  for (const std::string& path : in.input_file) {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw CommandError("cannot read --" + prefix + "-file " + path + ": " + std::strerror(errno));
    std::ostringstream ss;
    ss << f.rdbuf();
    data.push_back(ss.str());
  }
  std::map<std::string, std::vector<std::string>> meta;
  for (const std::string& m : in.input_meta) {
    size_t eq = m.find('=');
    if (eq == std::string::npos) throw UsageError("--" + prefix + "-meta " + m + ": expected KEY=VALUE");
    auto& vals = meta[m.substr(0, eq)];
    if (!data.empty() && vals.size() == data.size()) {
      throw UsageError("more --" + prefix + "-meta values for key \"" + m.substr(0, eq) + "\" than inputs");
    }
    vals.push_back(m.substr(eq + 1));
  }
  if (meta.find("encoding") == meta.end()) meta["encoding"] = {"json/plain"};
  Payloads out;
  for (size_t i = 0; i < data.size(); ++i) {
    Payload* p = out.add_payloads();
    std::string bytes = data[i];
    if (in.input_base64) {
      std::string decoded;
      if (!Base64Decode(bytes, &decoded)) {
        throw UsageError("input #" + std::to_string(i + 1) + " is not valid base64");
      }
      bytes = decoded;
    }
    for (const auto& [key, vals] : meta) {
      const std::string& v = i < vals.size() ? vals[i] : vals[0];
      if (key == "encoding" && v.rfind("json/", 0) == 0 && !Json::accept(bytes)) {
        throw UsageError("input #" + std::to_string(i + 1) + " is not valid JSON: " +
                         (bytes.size() > 80 ? bytes.substr(0, 80) + "..." : bytes));
      }
      (*p->mutable_metadata())[key] = v;
    }
    p->set_data(bytes);
  }
  return out;
}

Payload JsonPayload(const Json& value) {
  Payload p;
  (*p.mutable_metadata())["encoding"] = "json/plain";
  p.set_data(value.dump());
  return p;
}

std::map<std::string, std::string> KeyValues(const std::vector<std::string>& pairs, const std::string& flag) {
  std::map<std::string, std::string> out;
  for (const std::string& s : pairs) {
    size_t eq = s.find('=');
    if (eq == std::string::npos || eq == 0) throw UsageError(flag + " " + s + ": expected KEY=VALUE");
    out[s.substr(0, eq)] = s.substr(eq + 1);
  }
  return out;
}

std::map<std::string, Payload> KeyJsonPayloads(const std::vector<std::string>& pairs, const std::string& flag) {
  std::map<std::string, Payload> out;
  for (const auto& [key, text] : KeyValues(pairs, flag)) {
    Json value;
    try {
      value = Json::parse(text);
    } catch (const std::exception& e) {
      throw UsageError(flag + " " + key + ": value is not valid JSON (strings need quotes, e.g. " + key +
                       "='\"value\"'): " + text);
    }
    out[key] = JsonPayload(value);
  }
  return out;
}

Json PayloadValue(const Payload& p) {
  auto it = p.metadata().find("encoding");
  std::string encoding = it == p.metadata().end() ? "" : it->second;
  if (encoding == "binary/null") return nullptr;
  if (encoding == "json/plain" || encoding == "json/protobuf") {
    try {
      return Json::parse(p.data());
    } catch (const std::exception&) {
      return p.data();
    }
  }
  return Base64Encode(p.data());
}

Json PayloadsValue(const Payloads& p) {
  if (p.payloads_size() == 0) return nullptr;
  if (p.payloads_size() == 1) return PayloadValue(p.payloads(0));
  Json arr = Json::array();
  for (const Payload& one : p.payloads()) arr.push_back(PayloadValue(one));
  return arr;
}

std::string PayloadsEncoding(const Payloads& p) {
  if (p.payloads_size() == 0) return "";
  auto it = p.payloads(0).metadata().find("encoding");
  return it == p.payloads(0).metadata().end() ? "" : it->second;
}

std::string CompactJson(const Json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void DecodePayloadsInJson(Json* value) {
  if (value->is_array()) {
    for (Json& v : *value) DecodePayloadsInJson(&v);
    return;
  }
  if (!value->is_object()) return;
  auto meta = value->find("metadata");
  if (meta != value->end() && meta->is_object() && meta->contains("encoding") && (*meta)["encoding"].is_string() &&
      value->size() <= 2 && (value->size() == 1 || value->contains("data"))) {
    Payload p;
    std::string decoded;
    for (auto& [k, v] : meta->items()) {
      if (v.is_string() && Base64Decode(v.get<std::string>(), &decoded)) (*p.mutable_metadata())[k] = decoded;
    }
    if (value->contains("data") && (*value)["data"].is_string() &&
        Base64Decode((*value)["data"].get<std::string>(), &decoded)) {
      p.set_data(decoded);
    }
    *value = PayloadValue(p);
    return;
  }
  for (auto& [k, v] : value->items()) DecodePayloadsInJson(&v);
}

std::string FailureText(const temporal::api::failure::v1::Failure& failure, const std::string& start_indent) {
  std::string s;
  std::string indent = start_indent;
  const temporal::api::failure::v1::Failure* f = &failure;
  while (f != nullptr) {
    s += "\n" + indent + "Message: " + f->message();
    if (f->has_application_failure_info() && !f->application_failure_info().type().empty()) {
      s += "\n" + indent + "Type: " + f->application_failure_info().type();
    }
    if (!f->stack_trace().empty()) {
      std::string st = f->stack_trace();
      while (!st.empty() && st.back() == '\n') st.pop_back();
      std::string body;
      size_t pos = 0;
      while (pos <= st.size()) {
        size_t nl = st.find('\n', pos);
        if (nl == std::string::npos) nl = st.size();
        body += "\n" + indent + "    " + st.substr(pos, nl - pos);
        pos = nl + 1;
      }
      s += "\n" + indent + "StackTrace:" + body;
    }
    if (f->has_cause()) {
      f = &f->cause();
      s += "\n" + indent + "Cause:";
      indent += "    ";
    } else {
      f = nullptr;
    }
  }
  return s;
}

std::string FailureSummary(const temporal::api::failure::v1::Failure& failure) {
  std::string s;
  const temporal::api::failure::v1::Failure* f = &failure;
  while (f != nullptr) {
    if (!s.empty()) s += ": ";
    s += f->message();
    if (f->has_application_failure_info() && !f->application_failure_info().type().empty()) {
      s += " (" + f->application_failure_info().type() + ")";
    } else if (f->has_timeout_failure_info()) {
      s += " (timeout)";
    }
    f = f->has_cause() ? &f->cause() : nullptr;
  }
  return s;
}

}  // namespace temporalite::cli
