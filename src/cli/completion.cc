// temporalite completion bash|zsh: prints a shell completion script generated from the command
// tree itself (every command, its subcommands, its flags, and the allowed values of flags that
// take one of a fixed set), so completion never drifts from the real commands.
//
// The script defines one associative array per kind of fact, keyed by the command path
// ("temporalite", "temporalite workflow", ...), and one function that walks the words typed so far. The zsh
// script is the same function run through zsh's bash completion layer (bashcompinit), defined
// under `emulate sh` so it keeps bash's 0-based arrays.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/commands.h"

namespace temporalite::cli {
namespace {

struct Facts {
  std::map<std::string, std::string> subcommands;  // path -> "a b c"
  std::map<std::string, std::string> flags;        // path -> "--x -y"
  std::map<std::string, std::string> value_flags;  // path -> " --x -y " (flags that take a value)
  std::map<std::string, std::string> choices;      // "path\tflag" -> "v1 v2"
};

std::string Join(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

// "{a,b,c}" (CLI::IsMember's description) -> {a, b, c}; anything else -> {}.
std::vector<std::string> ChoicesOf(CLI::Option* opt) {
  std::vector<std::string> out;
  CLI::Validator* v = nullptr;
  try {
    v = opt->get_validator();
  } catch (const CLI::OptionNotFound&) {
    return out;
  }
  if (v == nullptr) return out;
  std::string d = v->get_description();
  if (d.size() < 2 || d.front() != '{' || d.back() != '}') return out;
  std::string cur;
  for (char c : d.substr(1, d.size() - 2)) {
    if (c == ',') {
      out.push_back(cur);
      cur.clear();
    } else if (c != ' ') {
      cur.push_back(c);
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

void Collect(CLI::App* app, const std::string& path, Facts& facts) {
  std::vector<std::string> subs;
  for (CLI::App* sub : app->get_subcommands([](CLI::App*) { return true; })) {
    if (sub->get_name().empty()) continue;  // option groups
    subs.push_back(sub->get_name());
    Collect(sub, path + " " + sub->get_name(), facts);
  }
  facts.subcommands[path] = Join(subs);
  std::vector<std::string> flags;
  std::string value_flags = " ";
  // The command's own options plus those of its nameless option groups (the global flags).
  std::vector<CLI::Option*> options = app->get_options([](CLI::Option* o) { return o->nonpositional(); });
  for (CLI::App* group : app->get_subcommands([](CLI::App* a) { return a->get_name().empty(); })) {
    for (CLI::Option* o : group->get_options([](CLI::Option* o) { return o->nonpositional(); })) options.push_back(o);
  }
  for (CLI::Option* opt : options) {
    std::vector<std::string> names;
    for (const auto& l : opt->get_lnames()) names.push_back("--" + l);
    for (const auto& s : opt->get_snames()) names.push_back("-" + s);
    const bool takes_value = opt->get_type_size() != 0;
    std::vector<std::string> choices = ChoicesOf(opt);
    for (const auto& n : names) {
      flags.push_back(n);
      if (takes_value) value_flags += n + " ";
      if (!choices.empty()) facts.choices[path + "\t" + n] = Join(choices);
    }
  }
  facts.flags[path] = Join(flags);
  facts.value_flags[path] = value_flags;
}

// Single-quoted for the shell (the words never contain quotes, but be safe).
std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string BashFunction(const Facts& f) {
  std::string s;
  auto table = [&](const char* name, const std::map<std::string, std::string>& m) {
    s += "declare -gA " + std::string(name) + "=(\n";
    for (const auto& [k, v] : m) s += "  [" + Quote(k) + "]=" + Quote(v) + "\n";
    s += ")\n";
  };
  table("_temporalite_subcommands", f.subcommands);
  table("_temporalite_flags", f.flags);
  table("_temporalite_value_flags", f.value_flags);
  table("_temporalite_choices", f.choices);
  s += R"sh(
# COMPREPLY = the words of $1 that start with $2. (Not compgen: zsh's emulation of it misbehaves
# inside this function, which runs with sh options there.)
_temporalite_reply() {
  local w
  COMPREPLY=()
  for w in $1; do
    [[ "$w" == "$2"* ]] && COMPREPLY+=("$w")
  done
  return 0
}

_temporalite() {
  local cur="${COMP_WORDS[COMP_CWORD]}" prev="" path="temporalite" i w skip=0 sub
  COMPREPLY=()
  # Walk the words before the cursor: command names extend the path, flag values are skipped.
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="${COMP_WORDS[i]}"
    if ((skip)); then skip=0; continue; fi
    case "$w" in
      --*=*) continue ;;
      -*)
        [[ "${_temporalite_value_flags[$path]}" == *" $w "* ]] && skip=1
        continue ;;
    esac
    for sub in ${_temporalite_subcommands[$path]}; do
      if [[ "$sub" == "$w" ]]; then path="$path $w"; break; fi
    done
  done
  if ((skip)); then
    # A flag's value: its fixed choices, or nothing (the shell's default, file names).
    prev="${COMP_WORDS[COMP_CWORD-1]}"
    _temporalite_reply "${_temporalite_choices[$path	$prev]}" "$cur"
  elif [[ "$cur" == -* ]]; then
    _temporalite_reply "${_temporalite_flags[$path]}" "$cur"
  else
    _temporalite_reply "${_temporalite_subcommands[$path]}" "$cur"
  fi
  return 0
}
)sh";
  return s;
}

void Print(const std::string& shell, CLI::App* root) {
  Facts facts;
  Collect(root, "temporalite", facts);
  std::string body = BashFunction(facts);
  if (shell == "bash") {
    std::fputs("# bash completion for temporalite. Load it with:\n"
               "#   source <(temporalite completion bash)\n"
               "# or install it: temporalite completion bash > /etc/bash_completion.d/temporalite\n",
               stdout);
    std::fputs(body.c_str(), stdout);
    std::fputs("complete -o default -F _temporalite temporalite\n", stdout);
    return;
  }
  // zsh: the same function through bashcompinit, defined with sh emulation (0-based arrays).
  std::string script = "#compdef temporalite\n"
                       "# zsh completion for temporalite. Load it with:\n"
                       "#   source <(temporalite completion zsh)\n"
                       "# (after `autoload -U compinit && compinit` in ~/.zshrc)\n"
                       "autoload -U +X bashcompinit && bashcompinit\n"
                       "emulate sh -c " + Quote(body) + "\n"
                       "complete -o default -F _temporalite temporalite\n";
  std::fputs(script.c_str(), stdout);
}

}  // namespace

void RegisterCompletionCommand(CLI::App* app) {
  auto shell = std::make_shared<std::string>();
  CLI::App* cmd = app->add_subcommand("completion", "Generate the autocompletion script for bash or zsh");
  cmd->footer(
      "\nPrints a completion script for your shell. For the current shell session:\n\n"
      "  source <(temporalite completion bash)\n\n"
      "To load it in every session, add that line to ~/.bashrc (or ~/.zshrc for zsh, after\n"
      "`autoload -U compinit && compinit`).\n");
  cmd->add_option("shell", *shell, "bash or zsh")->required()->check(CLI::IsMember({"bash", "zsh"}));
  cmd->callback([cmd, shell] {
    CLI::App* root = cmd;
    while (root->get_parent() != nullptr) root = root->get_parent();
    Print(*shell, root);
  });
}

}  // namespace temporalite::cli
