#include "rapport/body_decision.hpp"

#include <algorithm>

#include "rapport/address.hpp"

namespace rapport {
namespace {

std::string contact_name(const Match& m) {
    return m.contact && !m.contact->name.empty() ? m.contact->name : m.address;
}

NotificationDraft contact_changed(const Match& m, const std::string& reason, const std::string& message_id,
                                  const std::string& text) {
    NotificationDraft n;
    n.kind = "contact_changed";
    n.account = m.account->id;
    n.text = text;
    n.extra = {{"contact", m.address}, {"reason", reason}, {"message_id", message_id}};
    return n;
}

}  // namespace

BodyDecision decide_body(const MailBody& body, const BodyRequestInfo& request, const AccountDirectory& directory,
                         const BodyContext& context) {
    BodyDecision d;
    const MailVerdict verdict = read_mail(body, context.own_addresses);
    d.why = verdict.why;
    const auto& rules = directory.rules().rules;
    if (request.reason == BodyReason::report && rules.contact_changes.enabled) {
        if (verdict.kind == MailKind::bounce) {
            for (const auto& r : verdict.recipients) {
                if (!r.permanent) continue;
                const Match m = directory.lookup(r.address);
                if (m.kind != MatchKind::contact || !m.account) continue;
                if (!context.sent_to || !context.sent_to(m.account->id, m.address, verdict.original_message_id)) continue;
                ContactChange c{m.account->id, m.address, ContactState::bounced, "bounce", r.status, std::nullopt};
                if (!request.history)
                    c.notification = contact_changed(
                        m, "bounce", request.message_id,
                        "Mail to " + contact_name(m) + " (" + m.account->name + ") bounced: the address no longer exists" +
                            (r.status.empty() ? std::string(".") : " (" + r.status + ")."));
                d.changes.push_back(std::move(c));
            }
        } else if (verdict.kind == MailKind::auto_reply && verdict.departure) {
            const Match m = directory.lookup(body.from_address);
            if (m.kind == MatchKind::contact && m.account) {
                ContactChange c{m.account->id, m.address, ContactState::left, "left", verdict.replacement, std::nullopt};
                if (!request.history)
                    c.notification = contact_changed(
                        m, "left", request.message_id,
                        contact_name(m) + " left " + m.account->name + ", says their auto-reply" +
                            (verdict.replacement.empty() ? std::string(".")
                                                         : "; it names " + verdict.replacement + " instead."));
                d.changes.push_back(std::move(c));
            }
        }
    }
    if (request.reason == BodyReason::customer && !request.history && verdict.kind == MailKind::none) {
        const std::string phrase = find_loss_phrase(body.text, rules.loss.phrases);
        const Match m = directory.lookup(body.from_address);
        if (!phrase.empty() && m.account && m.kind != MatchKind::internal) {
            NotificationDraft n;
            n.kind = "loss_signal";
            n.account = m.account->id;
            n.text = contact_name(m) + " (" + m.account->name + ") wrote \"" + phrase + "\" in \"" +
                     (body.subject.empty() ? std::string("(no subject)") : body.subject.substr(0, 200)) +
                     "\". A deal at risk? (The account is not marked lost.)";
            n.extra = {{"message_id", request.message_id}, {"phrase", phrase}};
            d.loss = std::move(n);
        }
    }
    return d;
}

}  // namespace rapport
