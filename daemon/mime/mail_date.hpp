#pragma once
// RFC 5322 dates with the obsolete and real-world forms: "Tue, 3 Jan 2023 10:00:00 +0100",
// "3 Jan 23 10:00 EST", "Tue,  3 Jan 2023 10:00:00 +0100 (CET)", "Tue Jan  3 10:00:00 2023"
// (asctime), "... GMT+0100", military and common named zones.
#include <optional>
#include <string_view>

#include "message_headers.hpp"

namespace rapport::mime {

// UTC time of the date, or nullopt if it is not a date. `assumption`, if given, is set to a
// short text when a guess was made (a missing or unknown zone is taken as UTC) and cleared
// otherwise.
std::optional<SysSeconds> parse_mail_date(std::string_view value,
                                          std::string_view* assumption = nullptr);

}  // namespace rapport::mime
