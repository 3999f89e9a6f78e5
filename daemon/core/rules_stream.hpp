#pragma once
// The fast path of parse_rules: one SAX pass over the text that builds the accounts and their
// contacts straight into their final form (contacts' strings in a StringArena), with no JSON
// document for them. Everything else (organization, people, rules, public_domains, ...) is
// small and kept as a JSON document for the usual checks.
//
// It gives up (nullopt) at the first thing it does not expect: a syntax error, a duplicate or
// unknown key, a wrong type, nesting too deep. parse_rules then takes the careful DOM path,
// which writes the diagnostics, so every message and its order stay those of that path.
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "rapport/rules.hpp"

namespace rapport::detail {

struct StreamedRules {
    nlohmann::json rest = nlohmann::json::object();  // every top-level key but "accounts"
    // Accounts with ids, names and stages checked, domains and contact addresses normalised;
    // what depends on the rest of the file (owners, claims, own domains) is checked later.
    std::vector<Account> accounts;
    std::vector<std::pair<std::size_t, nlohmann::json>> lost;  // account index, its "lost" value
    std::shared_ptr<StringArena> arena = std::make_shared<StringArena>();
};

// 1-64 letters, digits, '.', '_' or '-': person and account ids.
bool valid_rules_id(const std::string& id);

std::optional<StreamedRules> stream_rules(std::string_view text, int max_depth);

}  // namespace rapport::detail
