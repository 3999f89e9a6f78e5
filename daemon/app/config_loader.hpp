#pragma once
// Reads the settings file and the rules file it names from disk and validates both. The only
// place that touches the files; the parsing itself is the pure core's.
#include <memory>
#include <string>

#include "rapport/directory.hpp"
#include "rapport/rules.hpp"
#include "rapport/settings.hpp"

namespace rapport {

struct LoadedConfig {
    std::shared_ptr<const Settings> settings;
    std::shared_ptr<const Rules> rules;
    Diagnostics diagnostics;  // empty when both loaded
    std::vector<std::string> warnings;
    bool ok() const { return settings && rules && diagnostics.empty(); }
};

// Reads a whole file with a size cap; on failure returns nullopt and sets `error` to a
// sentence naming the path and the reason.
std::optional<std::string> read_text_file(const std::string& path, std::size_t max_bytes,
                                          std::string& error);

PathContext path_context_for(const std::string& settings_path);

// Why the files are read; it matters only for rules from an https URL (rules_source.hpp):
//   start:  the last good copy if there is one (the daemon then checks the URL), else the URL;
//   check:  --check-config: always the URL, nothing cached;
//   reload: the URL (conditional GET), the last good copy when the server is unreachable.
// The URL is fetched synchronously: a reload must run this on the worker pool.
enum class ConfigPurpose { start, check, reload };

LoadedConfig load_config(const std::string& settings_path, ConfigPurpose purpose = ConfigPurpose::start);

// Just the rules (for a reload that keeps the settings).
RulesResult load_rules(const std::string& rules_path);

// Rules from text (a fetched copy): parsed, with the summary template (if it names one) read
// relative to the folder of `relative_to`.
RulesResult rules_from_text(const std::string& text, const std::string& name, const std::string& relative_to);

}  // namespace rapport
