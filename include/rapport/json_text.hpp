#pragma once
// Reading untrusted JSON text: a size limit, a nesting limit, duplicate keys refused, and
// syntax errors reported as FILE:LINE:COL.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "rapport/diagnostic.hpp"

namespace rapport {

struct JsonLimits {
    std::size_t max_bytes = 64u << 20;  // 10,000 accounts with 100,000 contacts take ~12 MB
    int max_depth = 32;
};

struct JsonDocument {
    std::optional<nlohmann::json> value;
    Diagnostics diagnostics;  // syntax problems; empty when value is set
};

JsonDocument parse_json_text(std::string_view text, const std::string& file_name,
                             const JsonLimits& limits = {});

// 1-based line and column (in characters) of a byte offset.
std::pair<int, int> line_and_column(std::string_view text, std::size_t offset);

}  // namespace rapport
