#pragma once
// The decision behind auto-cc: given a message about to be sent, which account owners must be
// copied, and what the sender should know (reference customer, lost account).
#include <string>
#include <vector>

#include "rapport/directory.hpp"

namespace rapport {

struct ComposeInput {
    std::string from;
    std::vector<std::string> to, cc, bcc;
};

struct CcSuggestion {
    std::string address;
    std::string name;
    std::string account;
    std::string reason;
};

struct ComposeNotice {
    std::string kind;  // reference | lost | unknown_address
    std::string account;
    std::string text;
};

struct ComposeAdvice {
    std::vector<CcSuggestion> add_cc;
    std::vector<ComposeNotice> notices;
};

ComposeAdvice check_compose(const ComposeInput& input, const AccountDirectory& directory);

}  // namespace rapport
