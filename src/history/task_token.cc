#include "history/task_token.h"

namespace temporalite::history {

namespace {
// A version byte in front of the serialized token so a future format can be told apart.
constexpr char kTokenVersion = '\x01';
}  // namespace

std::string EncodeTaskToken(const state::TaskToken& token) {
  std::string out(1, kTokenVersion);
  token.AppendToString(&out);
  return out;
}

Result<state::TaskToken> DecodeTaskToken(const std::string& bytes) {
  state::TaskToken t;
  if (bytes.empty() || bytes[0] != kTokenVersion || !t.ParseFromArray(bytes.data() + 1, static_cast<int>(bytes.size() - 1)) ||
      t.kind() == state::TaskToken::KIND_UNSPECIFIED || t.run_id().empty()) {
    return InvalidArgument("Error deserializing task token: the token is malformed");
  }
  return t;
}

}  // namespace temporalite::history
