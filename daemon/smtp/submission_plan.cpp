#include "smtp/submission_plan.hpp"

#include <algorithm>
#include <unordered_set>

#include "mime/message_headers.hpp"
#include "rapport/address.hpp"
#include "rapport/message.hpp"
#include "rapport/message_decision.hpp"
#include "smtp/cc_insertion.hpp"

namespace rapport::smtp {
namespace {

std::string norm(const std::string& a) { return normalize_address(a).value_or(a); }

MessageSummary summary_of(const mime::MessageHeaders& h) {
    MessageSummary m;
    m.from = h.from;
    m.to = h.to;
    m.cc = h.cc;
    m.bcc = h.bcc;
    if (h.date) m.date = TimePoint{h.date->time_since_epoch()};
    m.subject = h.subject;
    m.message_id = h.message_id;
    return m;
}

}  // namespace

SubmissionPlan plan_submission(const std::string& message, const Envelope& envelope,
                               const AccountDirectory& directory) {
    SubmissionPlan plan;
    plan.recipients = envelope.recipients;
    const std::size_t end = header_block_end(message);
    const auto headers = mime::parse_message_headers(std::string_view(message).substr(0, end));
    const MessageSummary summary = summary_of(headers);
    plan.message_id = summary.message_id.empty() ? synthetic_message_id(summary) : summary.message_id;
    plan.subject = summary.subject;

    ComposeInput input;
    input.from = !headers.from.empty() ? headers.from.front().address : envelope.mail_from;
    std::unordered_set<std::string> in_header;
    for (const auto& a : headers.to) {
        input.to.push_back(a.address);
        in_header.insert(norm(a.address));
    }
    for (const auto& a : headers.cc) {
        input.cc.push_back(a.address);
        in_header.insert(norm(a.address));
    }
    for (const auto& a : headers.bcc) {
        input.bcc.push_back(a.address);
        in_header.insert(norm(a.address));
    }
    // Envelope-only recipients are the blind copies the client took out of the header.
    for (const auto& r : envelope.recipients)
        if (!in_header.count(norm(r))) input.bcc.push_back(r);

    ComposeAdvice advice = check_compose(input, directory);
    plan.notices = advice.notices;
    if (advice.add_cc.empty()) {
        plan.message = message;
        return plan;
    }
    std::vector<CcAddition> additions;
    for (const auto& s : advice.add_cc) additions.push_back({s.name, s.address});
    CcInsertion inserted = insert_cc(message, additions);

    // Check the result the way every reader will: the new Cc must hold the owners, and the
    // other fields what they held. If not (a Cc that ends inside an unclosed quote or
    // comment), relay the original bytes and copy the owners in the envelope only.
    const auto after = mime::parse_message_headers(
        std::string_view(inserted.message).substr(0, header_block_end(inserted.message)));
    bool ok = after.to == headers.to && after.from == headers.from && after.bcc == headers.bcc &&
              after.cc.size() >= headers.cc.size() &&
              std::equal(headers.cc.begin(), headers.cc.end(), after.cc.begin());
    for (const auto& a : inserted.added) {
        ok = ok && std::any_of(after.cc.begin() + static_cast<std::ptrdiff_t>(std::min(headers.cc.size(), after.cc.size())),
                               after.cc.end(), [&](const mime::MailAddress& m) { return norm(m.address) == a; });
    }
    if (ok && inserted.added.size() == additions.size()) {
        plan.message = std::move(inserted.message);
    } else {
        plan.message = message;
        plan.header_extended = false;
    }
    std::unordered_set<std::string> envelope_set;
    for (const auto& r : plan.recipients) envelope_set.insert(norm(r));
    for (const auto& s : advice.add_cc) {
        // format_mailbox refuses unsafe addresses; the envelope gets only what it accepted.
        if (!format_mailbox("", s.address)) continue;
        plan.added.push_back(s);
        if (envelope_set.insert(s.address).second) plan.recipients.push_back(s.address);
    }
    return plan;
}

}  // namespace rapport::smtp
