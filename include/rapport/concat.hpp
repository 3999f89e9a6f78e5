#pragma once
// A sentence of several parts in one allocation (a chain of + regrows the string as it goes):
// for the reasons and notices built on the API's hot path.
#include <initializer_list>
#include <string>
#include <string_view>

namespace rapport {

inline std::string concat(std::initializer_list<std::string_view> parts) {
    std::size_t size = 0;
    for (const auto part : parts) size += part.size();
    std::string out;
    out.reserve(size);
    for (const auto part : parts) out += part;
    return out;
}

}  // namespace rapport
