#pragma once
// One mailbox of an address field (From, To, Cc, Bcc), as the header parser
// (daemon/mime/message_headers.hpp) gives it and the core's message summary holds it. One
// type for both, so a scan moves each message's address lists from the parser into its
// summary rather than building them again. Header-only: the parser links no core library.
#include <string>

namespace rapport {

struct MailAddress {
    std::string name;     // display name, UTF-8, may be empty
    std::string address;  // local@domain as written (see mime/message_headers.hpp)
    bool operator==(const MailAddress& o) const { return name == o.name && address == o.address; }
};

}  // namespace rapport
