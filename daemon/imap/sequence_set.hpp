#pragma once
// IMAP sequence sets ("1:5,7,9:12"): building compact ones from sorted UIDs for commands, and
// expanding the ones servers send (ESEARCH) with a bound on how many numbers they may yield.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace rapport::imap {

// uids must be sorted ascending; duplicates are tolerated. Empty input gives "".
std::string compress_sequence_set(const std::uint32_t* uids, std::size_t count);
inline std::string compress_sequence_set(const std::vector<std::uint32_t>& uids) {
    return compress_sequence_set(uids.data(), uids.size());
}

// Appends the numbers of set to out. "*" is not accepted (servers never send it). Returns
// false with a reason when the set is malformed or would add more than max_numbers.
bool expand_sequence_set(std::string_view set, std::size_t max_numbers,
                         std::vector<std::uint32_t>& out, std::string& why);

}  // namespace rapport::imap
