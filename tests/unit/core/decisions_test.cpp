// The core's decisions, with an injected clock in milliseconds: when nudges fire and what a
// user's request does to them, when meetings end, what one fetched message earns, and what
// opening a folder means for the history boundary. No server, no stopwatch.
#include <catch2/catch.hpp>

#include "rapport/folder_sync.hpp"
#include "rapport/meetings.hpp"
#include "rapport/message_decision.hpp"
#include "rapport/nudges.hpp"

using namespace rapport;

namespace {

// A fake clock: milliseconds since a fixed start.
struct FakeClock : Clock {
    Instant t = Instant(*parse_datetime("2026-12-01T10:00:00Z"));
    Instant instant() const override { return t; }
    void advance(int64_t ms) { t += Millis{ms}; }
};

Nudge nudge(int64_t id, TimePoint due, NudgeState state = NudgeState::pending) {
    return Nudge{id, "acme", "follow_up", due, state, "Follow up"};
}

std::shared_ptr<const AccountDirectory> directory() {
    auto r = parse_rules(R"json({
      "organization": {"name": "Vendor Inc", "domains": ["vendor.example"]},
      "people": [{"id": "bob", "name": "Bob Rep", "addresses": ["bob@vendor.example"]},
                 {"id": "mia", "name": "Mia Marketing", "addresses": ["mia@vendor.example"]}],
      "accounts": [
        {"id": "acme", "name": "Acme Corp", "domains": ["acme.example"], "owner": "bob",
         "contacts": [{"address": "jane@acme.example", "name": "Jane Doe"}]},
        {"id": "initech", "name": "Initech", "domains": ["initech.example"], "owner": "bob", "stage": "lost",
         "lost": {"competitor": "Hooli"}}]
    })json", "rules.json");
    REQUIRE(r.rules);
    return std::make_shared<AccountDirectory>(r.rules);
}

MessageSummary mail(const std::string& from, const std::string& to, const std::string& id = "<m1@acme.example>") {
    MessageSummary m;
    m.from = {{"", from}};
    m.to = {{"", to}};
    m.subject = "Renewal";
    m.message_id = id;
    m.date = *parse_datetime("2026-11-30T09:00:00Z");
    return m;
}

MessageContext inbox(bool history = false, bool seen = false) {
    MessageContext c;
    c.mailbox = "work";
    c.folder = "INBOX";
    c.role = FolderRole::inbox;
    c.user_address = "mia@vendor.example";
    c.history = history;
    c.already_seen = seen;
    c.now = *parse_datetime("2026-12-01T10:00:00Z");
    return c;
}

}  // namespace

TEST_CASE("a nudge due in 2 s fires at 2 s, not at the next minute", "[decisions][nudges]") {
    FakeClock clock;
    const TimePoint due = clock.now() + Seconds{2};
    const std::vector<Nudge> nudges = {nudge(1, due), nudge(2, clock.now() + Seconds{3600})};

    // The one timer is armed for exactly the due instant.
    REQUIRE(next_nudge_wake(nudges, clock.instant()));
    CHECK(*next_nudge_wake(nudges, clock.instant()) == Instant(due));
    CHECK(nudges_to_fire(nudges, clock.instant()).empty());
    clock.advance(1999);
    CHECK(nudges_to_fire(nudges, clock.instant()).empty());
    clock.advance(1);  // 2000 ms
    const auto fire = nudges_to_fire(nudges, clock.instant());
    REQUIRE(fire.size() == 1);
    CHECK(fire[0].id == 1);
    // Fired, it is due: the next wake is the other nudge, and nothing fires twice.
    std::vector<Nudge> after = nudges;
    after[0].state = NudgeState::due;
    CHECK(nudges_to_fire(after, clock.instant()).empty());
    CHECK(*next_nudge_wake(after, clock.instant()) == Instant(clock.now() + Seconds{3598}));
}

TEST_CASE("nudges that came due while the daemon was down all fire at start, oldest first", "[decisions][nudges]") {
    FakeClock clock;
    const std::vector<Nudge> nudges = {nudge(3, clock.now() - Seconds{60}), nudge(1, clock.now() - Seconds{86400}),
                                       nudge(2, clock.now() - Seconds{1}, NudgeState::snoozed),
                                       nudge(4, clock.now() - Seconds{5}, NudgeState::done),
                                       nudge(5, clock.now() - Seconds{5}, NudgeState::cancelled)};
    const auto fire = nudges_to_fire(nudges, clock.instant());
    REQUIRE(fire.size() == 3);
    CHECK(fire[0].id == 1);
    CHECK(fire[1].id == 3);
    CHECK(fire[2].id == 2);  // a snooze that ended comes due again
    CHECK_FALSE(next_nudge_wake(nudges, clock.instant()));  // nothing left in the future
}

TEST_CASE("a snoozed nudge comes due again when its snooze ends, to the millisecond", "[decisions][nudges]") {
    FakeClock clock;
    Nudge n = nudge(7, clock.now() - Seconds{10}, NudgeState::due);
    const auto change = request_change(n, NudgeRequest::snooze, clock.instant(), clock.now() + Seconds{90});
    REQUIRE(change.allowed);
    CHECK(change.state == NudgeState::snoozed);
    n.state = change.state;
    n.due = *change.due;
    CHECK(*next_nudge_wake({n}, clock.instant()) == clock.instant() + Millis{90000});
    clock.advance(89999);
    CHECK(nudges_to_fire({n}, clock.instant()).empty());
    clock.advance(1);
    CHECK(nudges_to_fire({n}, clock.instant()).size() == 1);
}

TEST_CASE("the nudge state machine: what users may do, and what repeats harmlessly", "[decisions][nudges]") {
    FakeClock clock;
    const auto now = clock.instant();
    const auto later = clock.now() + Seconds{3600};
    for (auto open : {NudgeState::pending, NudgeState::snoozed, NudgeState::due}) {
        CHECK(request_change(nudge(1, later, open), NudgeRequest::done, now).state == NudgeState::done);
        CHECK(request_change(nudge(1, later, open), NudgeRequest::dismiss, now).state == NudgeState::dismissed);
        CHECK(request_change(nudge(1, later, open), NudgeRequest::snooze, now, later).allowed);
    }
    // Done twice: allowed, nothing changes (a retried request).
    const auto again = request_change(nudge(1, later, NudgeState::done), NudgeRequest::done, now);
    CHECK(again.allowed);
    CHECK_FALSE(again.changed);
    // Closed nudges stay closed.
    for (auto closed : {NudgeState::done, NudgeState::dismissed, NudgeState::cancelled}) {
        CHECK_FALSE(request_change(nudge(1, later, closed), NudgeRequest::snooze, now, later).allowed);
        if (closed != NudgeState::dismissed)
            CHECK_FALSE(request_change(nudge(1, later, closed), NudgeRequest::dismiss, now).allowed);
    }
    CHECK_THAT(request_change(nudge(9, later, NudgeState::cancelled), NudgeRequest::done, now).refusal,
               Catch::Equals("nudge 9 is already cancelled"));
    // A snooze must end in the future — measured in milliseconds, not in whole seconds.
    CHECK_FALSE(request_change(nudge(1, later), NudgeRequest::snooze, now, clock.now()).allowed);
    clock.advance(500);
    CHECK_FALSE(request_change(nudge(1, later), NudgeRequest::snooze, clock.instant(), clock.now()).allowed);
    // Names round-trip, unknown names are refused.
    for (auto s : {NudgeState::pending, NudgeState::snoozed, NudgeState::due, NudgeState::done, NudgeState::dismissed,
                   NudgeState::cancelled})
        CHECK(parse_nudge_state(to_string(s)) == s);
    CHECK_FALSE(parse_nudge_state("Pending"));
}

TEST_CASE("meetings end at their end instant; too old ones expire; handled ones never again", "[decisions][meetings]") {
    auto dir = directory();
    const auto users = user_addresses("bob@vendor.example", dir->rules());
    FakeClock clock;
    CalendarOccurrence o;
    o.calendar = "work";
    o.uid = "call-1";
    o.occurrence = o.start = clock.now() - Seconds{1800};
    o.end = clock.now() + Seconds{2};
    o.title = "Acme QBR";
    o.organizer = {"bob@vendor.example", "Bob", ""};
    o.attendees = {{"jane@acme.example", "Jane", "ACCEPTED"}};
    auto m = as_customer_meeting(o, *dir, users, clock.now());
    REQUIRE(m);
    const std::vector<Meeting> meetings = {*m};
    const Seconds catch_up{86400};

    auto d = decide_endings(meetings, {}, clock.instant(), catch_up);
    CHECK(d.fire.empty());
    REQUIRE(d.next_end);
    CHECK(*d.next_end == o.end);
    clock.advance(1999);
    CHECK(decide_endings(meetings, {}, clock.instant(), catch_up).fire.empty());
    clock.advance(1);
    d = decide_endings(meetings, {}, clock.instant(), catch_up);
    REQUIRE(d.fire.size() == 1);
    CHECK(d.expire.empty());
    // Recorded as ended: never fired again, whatever the time.
    const std::set<OccurrenceKey> ended = {key_of(o)};
    CHECK(decide_endings(meetings, ended, clock.instant() + Millis{3600000}, catch_up).fire.empty());
    // Found a day and a millisecond after its end (the laptop was off): expired, not acted on.
    d = decide_endings(meetings, {}, Instant(o.end) + Millis{86400001}, catch_up);
    CHECK(d.fire.empty());
    CHECK(d.expire.size() == 1);
    d = decide_endings(meetings, {}, Instant(o.end) + Millis{86400000}, catch_up);
    CHECK(d.fire.size() == 1);
}

TEST_CASE("per message: mail older than the recent-messages window updates contacts, not the account's list",
          "[decisions][mail]") {
    auto dir = directory();
    const MessageContext context = inbox(/*history=*/true);
    const auto dated = [&](const std::optional<TimePoint>& date) {
        auto m = mail("jane@acme.example", "mia@vendor.example");
        m.date = date;
        const auto d = decide_message(m, *dir, context);
        REQUIRE(d.contacts.size() == 1);
        return d.contacts[0];
    };
    const auto old = dated(context.now - kRecentMessagesKept - Seconds{1});
    CHECK_FALSE(old.recent);
    CHECK(old.when == context.now - kRecentMessagesKept - Seconds{1});  // the activity keeps its date
    CHECK(dated(context.now - kRecentMessagesKept).recent);               // the boundary is kept
    CHECK(dated(context.now + Seconds{86400}).recent);                    // dated in the future
    CHECK(dated(std::nullopt).recent);                                    // no Date: dated by now
    // Outbound too: each recipient's touch says it.
    auto out = mail("mia@vendor.example", "jane@acme.example");
    out.date = context.now - Seconds{200 * 86400};
    const auto sent = decide_message(out, *dir, context);
    REQUIRE(sent.contacts.size() == 1);
    CHECK_FALSE(sent.contacts[0].inbound);
    CHECK_FALSE(sent.contacts[0].recent);
}

TEST_CASE("per message: new customer mail is announced, history and repeats only update contacts", "[decisions][mail]") {
    auto dir = directory();
    const auto in = mail("jane@acme.example", "mia@vendor.example");

    const auto fresh = decide_message(in, *dir, inbox());
    CHECK(fresh.message_id == "<m1@acme.example>");
    REQUIRE(fresh.notifications.size() == 1);
    CHECK(fresh.notifications[0].kind == "customer_mail");
    CHECK(fresh.notifications[0].extra["direction"] == "in");
    REQUIRE(fresh.contacts.size() == 1);
    CHECK(fresh.contacts[0].account == "acme");
    CHECK(fresh.contacts[0].inbound);
    CHECK(fresh.contacts[0].when == *parse_datetime("2026-11-30T09:00:00Z"));
    // New mail a contact wrote is read for the rules' loss phrases (rapport/body_decision.hpp).
    CHECK(fresh.fetch_body == BodyReason::customer);

    const auto history = decide_message(in, *dir, inbox(/*history=*/true));
    CHECK(history.notifications.empty());
    CHECK(history.fetch_body == BodyReason::none);
    CHECK(history.contacts.size() == 1);  // history still tells lookup when Jane last wrote

    const auto repeat = decide_message(in, *dir, inbox(false, /*seen=*/true));
    CHECK(repeat.notifications.empty());
    CHECK(repeat.contacts.size() == 1);

    // An auto-reply says nothing about the relationship: no contact activity.
    auto auto_reply = in;
    auto_reply.auto_submitted = "auto-replied";
    CHECK(decide_message(auto_reply, *dir, inbox()).contacts.empty());

    // A lost account writing in is told as such.
    const auto lost = decide_message(mail("ceo@initech.example", "mia@vendor.example", "<l@initech>"), *dir, inbox());
    bool wrote = false;
    for (const auto& n : lost.notifications) wrote = wrote || n.kind == "lost_account_wrote";
    CHECK(wrote);

    // Mail between colleagues is nobody's customer mail.
    const auto internal = decide_message(mail("bob@vendor.example", "mia@vendor.example"), *dir, inbox());
    CHECK(internal.notifications.empty());
    CHECK(internal.contacts.empty());
}

TEST_CASE("per message: Sent mail to a customer without its owner is caught by the audit", "[decisions][mail]") {
    auto dir = directory();
    auto context = inbox();
    context.folder = "Sent";
    context.role = FolderRole::sent;
    const auto d = decide_message(mail("mia@vendor.example", "jane@acme.example"), *dir, context);
    bool audit = false;
    for (const auto& n : d.notifications) audit = audit || n.kind == "owner_not_copied";
    CHECK(audit);
    REQUIRE(d.contacts.size() == 1);
    CHECK_FALSE(d.contacts[0].inbound);
    CHECK(d.contacts[0].address == "jane@acme.example");
}

TEST_CASE("a message without a Message-ID gets the same synthetic id in every build", "[decisions][mail]") {
    auto m = mail("jane@acme.example", "mia@vendor.example", "");
    // FNV-1a of "Renewal\njane@acme.example\n1796029200" (computed independently): fixed, so
    // an upgrade never makes such a message look new.
    CHECK(synthetic_message_id(m) == "no-message-id-ffd585af4f081385");
    auto other = m;
    other.subject = "Renewal!";
    CHECK(synthetic_message_id(other) != synthetic_message_id(m));
    CHECK(decide_message(m, *directory(), inbox()).message_id == synthetic_message_id(m));
}

TEST_CASE("opening a folder: the history boundary is fixed once, and survives interruptions", "[decisions][mail]") {
    // Never seen: what is there now (below UIDNEXT) is history; store that before fetching.
    auto first = open_folder(std::nullopt, 7, 1501, 0);
    CHECK(first.store_first);
    CHECK(first.mark.history_below == 1501);
    CHECK_FALSE(first.mark.scanned);
    CHECK(is_history(first.mark, 1500));
    CHECK_FALSE(is_history(first.mark, 1501));

    // Interrupted after 500 (crash, restart, reconnect), mail arrived meanwhile (UIDNEXT 1510):
    // the boundary stays where it was, so the new mail is announced.
    SyncMark interrupted = first.mark;
    interrupted.last_uid = 500;
    auto resumed = open_folder(interrupted, 7, 1510, 0);
    CHECK_FALSE(resumed.store_first);
    CHECK(resumed.mark.history_below == 1501);
    CHECK(resumed.mark.last_uid == 500);
    CHECK_FALSE(is_history(resumed.mark, 1505));

    // Scanned, then the folder was recreated (new UIDVALIDITY): nothing is history; the
    // stored Message-IDs keep repeats quiet.
    auto done = after_complete_fetch(resumed.mark);
    CHECK(done.scanned);
    auto recreated = open_folder(done, 8, 40, 0);
    CHECK(recreated.uidvalidity_changed);
    CHECK(recreated.store_first);
    CHECK(recreated.mark.scanned);
    CHECK(recreated.mark.last_uid == 0);
    CHECK_FALSE(is_history(recreated.mark, 1));

    // A new UIDVALIDITY before the first scan completed: as a folder never seen.
    auto restarted = open_folder(interrupted, 9, 300, 0);
    CHECK(restarted.mark.history_below == 300);
    CHECK_FALSE(restarted.mark.scanned);

    // A server that sends no UIDNEXT: everything is history until the first scan completes,
    // which then fixes the boundary after the last UID it saw.
    auto unknown = open_folder(std::nullopt, 7, 0, 0);
    CHECK(is_history(unknown.mark, 4000000000u));
    unknown.mark.last_uid = 42;
    CHECK(after_complete_fetch(unknown.mark).history_below == 43);

    // A mark from schema 1 caught mid-scan (no boundary stored): today's UIDNEXT it is.
    SyncMark old;
    old.uidvalidity = 7;
    old.last_uid = 100;
    auto upgraded = open_folder(old, 7, 900, 0);
    CHECK(upgraded.store_first);
    CHECK(upgraded.mark.history_below == 900);
}

TEST_CASE("per message: an account lost through the API is told as lost when its contact writes", "[decisions][mail]") {
    auto dir = directory();
    const std::set<std::string> lost = {"acme"};
    auto context = inbox();
    context.lost_accounts = &lost;
    auto kinds = [](const MessageDecision& d) {
        std::vector<std::string> k;
        for (const auto& n : d.notifications) k.push_back(n.kind);
        return k;
    };
    const auto in = mail("jane@acme.example", "mia@vendor.example");
    CHECK(kinds(decide_message(in, *dir, context)) == std::vector<std::string>{"customer_mail", "lost_account_wrote"});
    // Not lost (reopened): only the mail itself.
    const std::set<std::string> none;
    context.lost_accounts = &none;
    CHECK(kinds(decide_message(in, *dir, context)) == std::vector<std::string>{"customer_mail"});
    // Lost in the rules and through the API: told once, not twice.
    const std::set<std::string> both = {"initech"};
    context.lost_accounts = &both;
    const auto from_initech = decide_message(mail("ceo@initech.example", "mia@vendor.example", "<i@initech>"), *dir, context);
    const auto initech_kinds = kinds(from_initech);
    CHECK(std::count(initech_kinds.begin(), initech_kinds.end(), "lost_account_wrote") == 1);
    // Our own mail to a lost account is no sign of life from them.
    context.lost_accounts = &lost;
    auto out_context = context;
    out_context.folder = "Sent";
    out_context.role = FolderRole::sent;
    const auto out = decide_message(mail("mia@vendor.example", "jane@acme.example"), *dir, out_context);
    for (const auto& k : kinds(out)) CHECK(k != "lost_account_wrote");
}
