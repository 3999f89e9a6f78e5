#include "rapport/account_review.hpp"

#include <algorithm>
#include <map>

#include "rapport/address.hpp"

namespace rapport {
namespace {

const Seconds kMorning{9 * 3600};  // loss follow-ups come at 09:00 UTC of their day, not at midnight

bool is_customer(Stage s) { return s == Stage::active || s == Stage::won; }

std::string display(const ContactEngagement& c) { return c.name.empty() ? c.address : c.name; }

// The person to talk to: the champion who wrote last, else anyone who wrote last.
const ContactEngagement* best_contact(const Engagement& e) {
    const ContactEngagement* best = nullptr;
    for (const auto& c : e.contacts) {
        if (!c.last_in && !c.last_out) continue;
        const auto when = std::max(c.last_in.value_or(TimePoint{}), c.last_out.value_or(TimePoint{}));
        const auto best_when = best ? std::max(best->last_in.value_or(TimePoint{}), best->last_out.value_or(TimePoint{}))
                                    : TimePoint{};
        if (!best || (c.champion && !best->champion) || (c.champion == best->champion && when > best_when)) best = &c;
    }
    return best;
}

void earliest(std::optional<Instant>& into, TimePoint t) {
    if (!into || Instant(t) < *into) into = Instant(t);
}

PlannedNudge nudge(const Account& a, const char* kind, TimePoint due, std::string text) {
    PlannedNudge n;
    n.account = a.id;
    n.kind = kind;
    n.due = due;
    n.text = std::move(text);
    return n;
}

}  // namespace

std::string person_of(const Rules& rules, const std::string& user_address) {
    const auto address = normalize_address(user_address);
    if (!address) return {};
    for (const auto& p : rules.people)
        if (std::find(p.addresses.begin(), p.addresses.end(), *address) != p.addresses.end()) return p.id;
    return {};
}

std::string loss_signature(const Account& account) {
    if (account.stage != Stage::lost) return {};
    std::string s = "lost";
    if (account.lost) {
        s += "|" + (account.lost->on ? format_date(*account.lost->on) : std::string()) + "|" + account.lost->competitor + "|" +
             (account.lost->delivery ? format_date(*account.lost->delivery) : std::string());
    }
    return s;
}

std::vector<PlannedNudge> drop_stale(std::vector<PlannedNudge> planned, TimePoint now) {
    std::stable_sort(planned.begin(), planned.end(), [](const PlannedNudge& a, const PlannedNudge& b) { return a.due < b.due; });
    std::size_t past = 0;
    while (past < planned.size() && planned[past].due <= now) ++past;
    if (past > 1) planned.erase(planned.begin(), planned.begin() + static_cast<std::ptrdiff_t>(past - 1));
    return planned;
}

std::string silence_text(const Account& account, const Engagement& e, int64_t days) {
    std::string text = "No mail with " + account.name + " for " + std::to_string(days) + (days == 1 ? " day" : " days");
    if (e.last_contact) text += " (the last on " + format_date(date_of(*e.last_contact)) + ")";
    const ContactEngagement* who = best_contact(e);
    text += who ? " — time to check in with " + display(*who) + "." : " — time to get in touch.";
    return text;
}

std::string single_threaded_text(const Account& account, const Engagement& e) {
    const ContactEngagement* only = nullptr;
    for (const auto& c : e.contacts)
        if (c.engaged) only = &c;
    const std::string who = only ? display(*only) : std::string("one person");
    std::string text = "Everything with " + account.name + " runs through " + who + " — meet someone else there.";
    if (only && only->champion)
        text += " " + who + " is the only champion who wrote in 90 days: if they leave, nobody there knows you.";
    else if (e.champions_engaged == 0)
        text += " No champion engaged in 90 days.";
    return text;
}

ReviewDecision review_accounts(const ReviewInput& in, Instant now_ms) {
    ReviewDecision d;
    if (!in.rules) return d;
    const Rules& rules = *in.rules;
    const TimePoint now = std::chrono::floor<Seconds>(now_ms);
    std::map<std::string, const AccountWatch*> watches;
    for (const auto& w : in.watches) watches[w.account] = &w;
    std::map<std::string, const std::vector<ContactSeen>*> seen;
    for (const auto& s : in.seen) seen[s.account] = &s.contacts;
    std::map<std::string, std::vector<Nudge>> open;
    for (const auto& n : in.open_nudges)
        if (is_open(n.state)) open[n.account].push_back(n);
    static const std::vector<ContactSeen> none;

    for (const auto& a : rules.accounts) {
        const auto known = watches.find(a.id);
        AccountWatch w;
        if (known != watches.end()) {
            w = *known->second;
        } else {
            w.account = a.id;
            w.owner = a.owner;
            w.first_seen = now;
        }
        auto& nudges = open[a.id];
        auto take = [&](auto&& which, std::vector<int64_t>& into) {
            for (auto it = nudges.begin(); it != nudges.end();)
                if (which(*it)) {
                    into.push_back(it->id);
                    it = nudges.erase(it);
                } else {
                    ++it;
                }
        };
        auto of_kind = [](const char* kind) { return [kind](const Nudge& n) { return n.kind == kind; }; };
        auto any = [](const Nudge&) { return true; };

        if (w.owner != a.owner) {
            if (!in.me.empty() && w.owner == in.me) {
                Handoff h;
                h.account = a.id;
                h.from = in.me;
                h.to = a.owner;
                h.sequence = ++w.handoffs;
                h.nudges = nudges;
                take(any, d.cancel);
                d.handoffs.push_back(std::move(h));
            }
            // Becoming the user's: its loss gets nudges here, whoever had them before.
            if (a.owner == in.me) w.loss_applied.clear();
            w.owner = a.owner;
        }
        if (!in.me.empty() && a.owner == in.me) {
            const std::string signature = loss_signature(a);
            if (signature != w.loss_applied) {
                if (!signature.empty()) {
                    // Like deal.lost: the loss replaces whatever the account had open.
                    take(any, d.cancel);
                    LossReport loss;
                    loss.account = a.id;
                    loss.lost_at = a.lost && a.lost->on ? start_of(*a.lost->on) + kMorning : now;
                    if (a.lost) {
                        loss.competitor = a.lost->competitor;
                        loss.delivery = a.lost->delivery;
                    }
                    for (auto& p : drop_stale(plan_loss_nudges(a, loss, rules.rules, rules.person(a.owner)), now))
                        d.add.push_back(std::move(p));
                    d.losses.push_back(std::move(loss));
                } else {
                    take(of_kind("follow_up"), d.cancel);
                    take(of_kind("delivery"), d.cancel);
                    d.unlosses.push_back(a.id);
                }
                w.loss_applied = signature;
            }
            if (is_customer(a.stage) && in.mail_history_complete) {
                const auto s = seen.find(a.id);
                const Engagement e = engagement_of(a, s == seen.end() ? none : *s->second, now);
                const TimePoint base = e.last_contact ? *e.last_contact : w.first_seen;
                // Mail since the silence nudge: the silence is over.
                if (w.silence_told && base > *w.silence_told) take(of_kind("silence"), d.close);
                const bool silence_told = w.silence_told && *w.silence_told >= base;
                if (rules.rules.silence.enabled && !silence_told) {
                    const TimePoint due = base + rules.rules.silence.after;
                    if (due <= now) {
                        const int64_t days = silent_days(e.last_contact, w.first_seen, now);
                        d.add.push_back(nudge(a, "silence", due, silence_text(a, e, days)));
                        w.silence_told = base;
                    } else {
                        earliest(d.next_review, due);
                    }
                }
                if (e.single_threaded) {
                    const bool has_open = std::any_of(nudges.begin(), nudges.end(), of_kind("single_threaded"));
                    if (w.single_threaded_armed && !has_open) {
                        d.add.push_back(nudge(a, "single_threaded", now, single_threaded_text(a, e)));
                        w.single_threaded_armed = false;
                    }
                } else if (e.engaged_contacts >= 2) {
                    take(of_kind("single_threaded"), d.close);
                    w.single_threaded_armed = true;
                }
            }
        }
        if (known == watches.end() || !(w == *known->second)) d.store.push_back(std::move(w));
    }
    return d;
}

}  // namespace rapport
