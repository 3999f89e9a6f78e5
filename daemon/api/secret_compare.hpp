#pragma once
// Comparing a presented secret (the API token) with the real one without leaking, through
// timing, how many leading characters matched. The length is not secret (always 64).
#include <cstddef>
#include <string_view>

namespace rapport::api {

inline bool constant_time_equals(std::string_view presented, std::string_view secret) {
    // volatile keeps the compiler from turning the loop into an early-exit memcmp.
    volatile unsigned char diff = presented.size() == secret.size() ? 0 : 1;
    const std::size_t n = presented.size() < secret.size() ? presented.size() : secret.size();
    for (std::size_t i = 0; i < n; ++i)
        diff = static_cast<unsigned char>(diff | (static_cast<unsigned char>(presented[i]) ^
                                                  static_cast<unsigned char>(secret[i])));
    return diff == 0 && !secret.empty();
}

}  // namespace rapport::api
