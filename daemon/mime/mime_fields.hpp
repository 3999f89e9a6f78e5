#pragma once
// The MIME-token fields: Content-Type (type/subtype and the report-type parameter) and
// Auto-Submitted (RFC 3834). Values come back in lower case.
#include <string>
#include <string_view>

namespace rapport::mime {

// False if there is no "type/subtype"; `type` is then left empty.
bool parse_content_type(std::string_view value, std::string& type, std::string& report_type);

// The keyword ("no", "auto-generated", "auto-replied", ...), or empty.
std::string parse_auto_submitted(std::string_view value);

}  // namespace rapport::mime
