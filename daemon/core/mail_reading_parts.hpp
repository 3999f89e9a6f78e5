#pragma once
// The pieces of read_mail (rapport/mail_reading.hpp) shared between its files.
#include <string>
#include <string_view>
#include <vector>

#include "rapport/mail_reading.hpp"

namespace rapport::mail_reading {

struct FoundAddress {
    std::string address;  // lower case
    std::size_t begin = 0, end = 0;
};

// Every addr-spec-looking token (local@domain.tld) in the text, in order.
std::vector<FoundAddress> find_addresses(std::string_view text, std::size_t limit = 200);

// True for the senders and subjects of delivery reports (MAILER-DAEMON, postmaster, "Mail
// Delivery System", "Undeliverable:", "failure notice", …) and for X-Failed-Recipients.
bool looks_like_bounce(const MailBody& body);
void read_bounce(const MailBody& body, const std::vector<std::string>& own, MailVerdict& verdict);

bool looks_like_auto_reply(const MailBody& body);
void read_auto_reply(const MailBody& body, const std::vector<std::string>& own, MailVerdict& verdict);

bool contains_any(std::string_view folded, std::initializer_list<std::string_view> cues, std::string* which = nullptr);

}  // namespace rapport::mail_reading
