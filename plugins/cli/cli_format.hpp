#pragma once
// How rapportctl shows results to a person: one line per notification, aligned tables for
// nudges and drafts, a status summary with scan progress. Pure: JSON in, text out.
#include <string>

#include <nlohmann/json.hpp>

namespace rapport::cli {

std::string notification_line(const nlohmann::json& params);
std::string nudges_table(const nlohmann::json& nudges);
// accounts.health: the people at the account with their last mail, and the verdicts.
std::string health_text(const nlohmann::json& health);
std::string drafts_table(const nlohmann::json& drafts);
std::string meetings_table(const nlohmann::json& meetings);
std::string status_text(const nlohmann::json& status);
std::string lookup_text(const nlohmann::json& results);
std::string compose_text(const nlohmann::json& advice);

}  // namespace rapport::cli
