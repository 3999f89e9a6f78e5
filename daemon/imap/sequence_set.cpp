#include "sequence_set.hpp"

#include <algorithm>
#include <limits>

namespace rapport::imap {

std::string compress_sequence_set(const std::uint32_t* uids, std::size_t count) {
    std::string out;
    std::size_t i = 0;
    while (i < count) {
        const std::uint32_t first = uids[i];
        std::uint32_t last = first;
        ++i;
        while (i < count && (uids[i] == last || uids[i] == last + 1)) last = uids[i++];
        if (!out.empty()) out += ',';
        out += std::to_string(first);
        if (last != first) {
            out += ':';
            out += std::to_string(last);
        }
    }
    return out;
}

namespace {
bool parse_number(std::string_view s, std::size_t& pos, std::uint32_t& n) {
    const std::size_t begin = pos;
    std::uint64_t v = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
        v = v * 10 + static_cast<unsigned>(s[pos] - '0');
        if (v > std::numeric_limits<std::uint32_t>::max()) return false;
        ++pos;
    }
    n = static_cast<std::uint32_t>(v);
    return pos > begin && n != 0;
}
}  // namespace

bool expand_sequence_set(std::string_view set, std::size_t max_numbers,
                         std::vector<std::uint32_t>& out, std::string& why) {
    std::size_t pos = 0;
    std::size_t added = 0;
    for (;;) {
        std::uint32_t a = 0;
        std::uint32_t b = 0;
        if (!parse_number(set, pos, a)) {
            why = "malformed sequence set";
            return false;
        }
        b = a;
        if (pos < set.size() && set[pos] == ':') {
            ++pos;
            if (!parse_number(set, pos, b)) {
                why = "malformed sequence set";
                return false;
            }
        }
        if (a > b) std::swap(a, b);
        const std::uint64_t span = static_cast<std::uint64_t>(b) - a + 1;
        if (added + span > max_numbers) {
            why = "too many numbers in sequence set";
            return false;
        }
        added += static_cast<std::size_t>(span);
        for (std::uint64_t v = a; v <= b; ++v) out.push_back(static_cast<std::uint32_t>(v));
        if (pos == set.size()) return true;
        if (set[pos] != ',') {
            why = "malformed sequence set";
            return false;
        }
        ++pos;
    }
}

}  // namespace rapport::imap
