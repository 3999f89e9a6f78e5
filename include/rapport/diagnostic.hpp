#pragma once
// One problem found in a user's or admin's file, with enough position to fix it.
#include <string>
#include <vector>

namespace rapport {

struct Diagnostic {
    std::string file;
    int line = 0;          // 1-based; 0 when the problem is about meaning, not syntax
    int column = 0;        // 1-based, in characters
    std::string path;      // JSON path such as "$.accounts[2].owner" for meaning errors
    std::string message;

    // "FILE:LINE:COL: message" for syntax, "FILE: $.json.path: message" for meaning.
    std::string to_string() const;
};

using Diagnostics = std::vector<Diagnostic>;

}  // namespace rapport
