#include "rapport/diagnostic.hpp"

namespace rapport {

std::string Diagnostic::to_string() const {
    if (file.empty()) return message;
    if (line > 0)
        return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message;
    if (!path.empty()) return file + ": " + path + ": " + message;
    return file + ": " + message;
}

}  // namespace rapport
