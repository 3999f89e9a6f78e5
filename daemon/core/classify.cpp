#include <algorithm>

#include "rapport/address.hpp"
#include "rapport/compose_check.hpp"
#include "rapport/message.hpp"

namespace rapport {
namespace {

bool contains(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
}

std::string display(const MailAddress& a) {
    return a.name.empty() ? a.address : a.name + " <" + a.address + ">";
}

}  // namespace

Classification classify_message(const MessageSummary& m, const AccountDirectory& directory,
                                const std::string& user_address, FolderRole role) {
    Classification c;
    // Per message: the settings' address is nearly always written normalised already.
    std::optional<std::string> normalized_user;
    if (!is_normalized_address(user_address)) normalized_user = normalize_address(user_address);
    const std::string_view user = normalized_user ? *normalized_user : std::string_view(user_address);
    bool from_us = role == FolderRole::sent;
    // match(), not lookup(): a classification never shows the directory's reasons. The
    // sender's answer is kept for the from loop below instead of asking twice.
    Match sender;
    if (!m.from.empty()) {
        sender = directory.match(m.from.front().address);
        c.sender = sender.address;
        from_us = from_us || sender.address == user || sender.kind == MatchKind::internal;
    }
    c.direction = from_us ? "out" : "in";
    c.automated = (!m.auto_submitted.empty() && m.auto_submitted != "no") ||
                  m.content_type == "multipart/report";
    for (const auto* list : {&m.from, &m.to, &m.cc, &m.bcc}) {
        for (const auto& a : *list) {
            const bool is_sender = list == &m.from && &a == &m.from.front();
            // Its address is moved into the lists below: this runs for every address of every
            // message a scan reads.
            Match match = is_sender ? std::move(sender) : directory.match(a.address);
            if (match.address.empty()) continue;
            if (match.kind == MatchKind::internal) {
                if (!contains(c.internal, match.address)) c.internal.push_back(std::move(match.address));
                continue;
            }
            if (!match.account) continue;
            auto it = std::find_if(c.accounts.begin(), c.accounts.end(),
                                   [&](const AccountInvolvement& x) { return x.account == match.account; });
            if (it == c.accounts.end()) {
                c.accounts.push_back({match.account, {}, {}});
                it = c.accounts.end() - 1;
            }
            auto& bucket = match.kind == MatchKind::contact ? it->contacts : it->others;
            if (!contains(bucket, match.address)) bucket.push_back(std::move(match.address));
        }
    }
    return c;
}

std::vector<NotificationDraft> message_notifications(const MessageSummary& m, const Classification& c,
                                                     const AccountDirectory& directory,
                                                     const std::string& mailbox,
                                                     const std::string& folder, FolderRole role) {
    std::vector<NotificationDraft> out;
    const std::string from = m.from.empty() ? "" : display(m.from.front());
    const std::string subject = m.subject.empty() ? "(no subject)" : m.subject;
    for (const auto& inv : c.accounts) {
        const Account& account = *inv.account;
        NotificationDraft n;
        n.kind = "customer_mail";
        n.account = account.id;
        n.text = c.direction == "in" ? "Mail from " + account.name + ": \"" + subject + "\" from " + from + "."
                                     : "Mail to " + account.name + ": \"" + subject + "\".";
        n.extra = {{"mailbox", mailbox}, {"folder", folder}, {"direction", c.direction},
                   {"from", from}, {"subject", m.subject}, {"message_id", m.message_id}};
        out.push_back(std::move(n));

        if (c.direction == "in" && !c.automated && account.stage == Stage::lost) {
            NotificationDraft lost;
            lost.kind = "lost_account_wrote";
            lost.account = account.id;
            lost.text = account.name + " (lost" + (account.lost && !account.lost->competitor.empty()
                                                        ? " to " + account.lost->competitor : std::string()) +
                        ") wrote: \"" + subject + "\" from " + from + ". A chance to win them back?";
            lost.extra = {{"message_id", m.message_id}, {"from", from}};
            out.push_back(std::move(lost));
        }
    }
    // The Sent audit: mail that left for a customer without its owner, seen after the fact
    // (sent from a phone, or with the plugin off). Same decision as compose.check.
    if (role == FolderRole::sent && directory.rules().rules.auto_cc.enabled && !m.from.empty()) {
        ComposeInput input;
        input.from = m.from.front().address;
        for (const auto& a : m.to) input.to.push_back(a.address);
        for (const auto& a : m.cc) input.cc.push_back(a.address);
        for (const auto& a : m.bcc) input.bcc.push_back(a.address);
        for (const auto& add : check_compose(input, directory).add_cc) {
            if (add.role != "owner") continue;  // the audit is about owners (team copies are a courtesy)
            NotificationDraft n;
            n.kind = "owner_not_copied";
            n.account = add.account;
            nlohmann::json recipients = nlohmann::json::array();
            for (const auto* list : {&m.to, &m.cc})
                for (const auto& a : *list) recipients.push_back(a.address);
            n.text = "\"" + subject + "\" went to " + directory.rules().account(add.account)->name +
                     " without " + add.name + ", who owns the account. Forward it to " + add.address + "?";
            n.extra = {{"message_id", m.message_id}, {"owner", add.address}, {"recipients", recipients}};
            out.push_back(std::move(n));
        }
    }
    return out;
}

}  // namespace rapport
