// Arbitrary bytes as a CalDAV server's multistatus reply: never crash, never hang.
#include <cstdint>
#include <string>
#include <string_view>

#include "calendar/dav_xml.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string error;
    (void)rapport::calendar::parse_multistatus(std::string_view(reinterpret_cast<const char*>(data), size), error);
    return 0;
}
