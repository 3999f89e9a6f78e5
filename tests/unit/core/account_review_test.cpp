// The account review with a fake clock: losses from the rules and their undoing, silence and
// single-threaded nudges exactly once per cause, owner changes handed over once. A small World
// applies each decision as the daemon does (watches stored, nudges added, cancelled, closed),
// so "once" is tested across repeated reviews, not for one call.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>

#include "rapport/account_review.hpp"

using namespace rapport;

namespace {

TimePoint at(const char* iso) { return *parse_datetime(iso); }

std::shared_ptr<const Rules> rules_with(const std::string& accounts, const std::string& rules = "{}") {
    auto r = parse_rules(R"({
      "organization": {"name": "Vendor Inc", "domains": ["vendor.example"]},
      "people": [{"id": "bob", "name": "Bob Rep", "addresses": ["bob@vendor.example"]},
                 {"id": "alice", "name": "Alice Rep", "addresses": ["alice@vendor.example"]}],
      "accounts": )" + accounts + R"(,
      "rules": )" + rules + "}",
                         "rules.json");
    INFO((r.diagnostics.empty() ? std::string() : r.diagnostics.front().to_string()));
    REQUIRE(r.rules);
    return r.rules;
}

const char* kAcme = R"([{"id": "acme", "name": "Acme Corp", "domains": ["acme.example"], "owner": "bob",
    "contacts": [{"address": "jane@acme.example", "name": "Jane Doe", "champion": true},
                 {"address": "carl@acme.example", "name": "Carl Poe"}]}])";

struct World {
    std::shared_ptr<const Rules> rules;
    std::string me = "bob";
    Instant now = Instant(at("2026-12-01T10:00:00Z"));
    std::vector<AccountWatch> watches;
    std::vector<Nudge> nudges;
    std::map<std::string, ContactSeen> seen;  // acme's people
    std::vector<Handoff> handoffs;
    std::vector<LossReport> losses;
    std::vector<std::string> unlosses;
    bool history_complete = true;
    int64_t next_id = 1;

    void mail(const std::string& address, bool inbound, TimePoint when) {
        auto& c = seen[address];
        c.address = address;
        auto& slot = inbound ? c.last_in : c.last_out;
        if (!slot || when > *slot) slot = when;
    }
    void advance_days(int days) { now += Seconds{int64_t{days} * 86400}; }

    ReviewDecision review() {
        ReviewInput in;
        in.rules = rules.get();
        in.me = me;
        in.watches = watches;
        AccountSeen s{"acme", {}};
        for (const auto& [_, c] : seen) s.contacts.push_back(c);
        in.seen.push_back(s);
        for (const auto& n : nudges)
            if (is_open(n.state)) in.open_nudges.push_back(n);
        in.mail_history_complete = history_complete;
        auto d = review_accounts(in, now);
        for (const auto& w : d.store) {
            auto it = std::find_if(watches.begin(), watches.end(), [&](const AccountWatch& x) { return x.account == w.account; });
            if (it == watches.end()) watches.push_back(w); else *it = w;
        }
        for (auto id : d.cancel) find(id).state = NudgeState::cancelled;
        for (auto id : d.close) find(id).state = NudgeState::done;
        for (const auto& p : d.add)
            nudges.push_back(Nudge{next_id++, p.account, p.kind, p.due, NudgeState::pending, p.text});
        handoffs.insert(handoffs.end(), d.handoffs.begin(), d.handoffs.end());
        losses.insert(losses.end(), d.losses.begin(), d.losses.end());
        unlosses.insert(unlosses.end(), d.unlosses.begin(), d.unlosses.end());
        return d;
    }
    Nudge& find(int64_t id) {
        auto it = std::find_if(nudges.begin(), nudges.end(), [&](const Nudge& n) { return n.id == id; });
        REQUIRE(it != nudges.end());
        return *it;
    }
    std::vector<Nudge> open(const std::string& kind) const {
        std::vector<Nudge> out;
        for (const auto& n : nudges)
            if (is_open(n.state) && n.kind == kind) out.push_back(n);
        return out;
    }
    std::size_t count(const std::string& kind) const {
        return static_cast<std::size_t>(std::count_if(nudges.begin(), nudges.end(), [&](const Nudge& n) { return n.kind == kind; }));
    }
};

}  // namespace

TEST_CASE("a loss in the rules gets its nudges once; stale ones are dropped", "[review]") {
    World w;
    w.rules = rules_with(R"([{"id": "initech", "name": "Initech", "domains": ["initech.example"], "owner": "bob",
        "contacts": [{"address": "bill@initech.example", "name": "Bill Lumbergh", "champion": true}],
        "stage": "lost", "lost": {"on": "2026-10-01", "competitor": "Hooli", "delivery": "2027-01-15"}}])",
                         R"({"loss": {"nudges": ["P14D", "P45D", "P90D"]}})");
    w.review();
    // 10-15 and 11-15 are past; only the newest past one (due at once) is kept, then 12-30 and the delivery.
    REQUIRE(w.nudges.size() == 3);
    CHECK(w.nudges[0].due == at("2026-11-15T09:00:00Z"));
    CHECK(w.nudges[0].text == "Initech went with Hooli 45 days ago — ask Bill Lumbergh how the roll-out is going.");
    CHECK(w.nudges[1].due == at("2026-12-30T09:00:00Z"));
    CHECK(w.nudges[2].kind == "delivery");
    CHECK(w.nudges[2].due == at("2027-01-15T09:00:00Z"));
    REQUIRE(w.losses.size() == 1);
    CHECK(w.losses[0].competitor == "Hooli");

    SECTION("again, and after a restart, nothing new") {
        CHECK(w.review().empty());
        w.advance_days(60);
        CHECK(w.review().add.empty());
        CHECK(w.nudges.size() == 3);
    }
    SECTION("a changed loss replaces the open nudges") {
        w.rules = rules_with(R"([{"id": "initech", "name": "Initech", "domains": ["initech.example"], "owner": "bob",
            "stage": "lost", "lost": {"on": "2026-11-20", "competitor": "Pied Piper"}}])",
                             R"({"loss": {"nudges": ["P14D", "P45D", "P90D"]}})");
        auto d = w.review();
        CHECK(d.cancel.size() == 3);
        REQUIRE(d.add.size() == 3);
        CHECK(d.add[0].text == "Initech went with Pied Piper 14 days ago — ask them how the roll-out is going.");
        CHECK(w.open("follow_up").size() == 3);
        CHECK(w.open("delivery").empty());
    }
    SECTION("the rules moving it out of lost cancel its open nudges") {
        w.rules = rules_with(R"([{"id": "initech", "name": "Initech", "domains": ["initech.example"], "owner": "bob",
            "stage": "active"}])",
                             R"({"loss": {"nudges": ["P14D", "P45D", "P90D"]}, "silence": {"enabled": false}})");
        auto d = w.review();
        CHECK(d.cancel.size() == 3);
        CHECK(w.unlosses == std::vector<std::string>{"initech"});
        CHECK(w.open("follow_up").empty());
        CHECK(w.review().empty());
    }
}

TEST_CASE("a loss without a date counts from when it is first seen; with a delivery in the past, no delivery nudge", "[review]") {
    World w;
    w.rules = rules_with(R"([{"id": "initech", "name": "Initech", "domains": ["initech.example"], "owner": "bob",
        "stage": "lost", "lost": {"competitor": "Hooli", "delivery": "2026-06-01"}}])",
                         R"({"loss": {"nudges": ["PT2S", "P14D"]}})");
    w.review();
    REQUIRE(w.nudges.size() == 2);
    CHECK(w.nudges[0].due == at("2026-12-01T10:00:02Z"));
    CHECK(w.nudges[1].due == at("2026-12-15T10:00:00Z"));
    CHECK(w.count("delivery") == 0);
}

TEST_CASE("someone else's lost account gets no nudges here", "[review]") {
    World w;
    w.me = "alice";
    w.rules = rules_with(R"([{"id": "initech", "name": "Initech", "domains": ["initech.example"], "owner": "bob",
        "stage": "lost"}])");
    auto d = w.review();
    CHECK(d.add.empty());
    CHECK(d.losses.empty());
    CHECK(d.store.size() == 1);  // watched: a later owner change to alice is noticed
}

TEST_CASE("silence: one nudge per silent stretch; new mail closes it", "[review]") {
    World w;
    w.rules = rules_with(kAcme, R"({"silence": {"after": "P45D"}})");
    w.mail("jane@acme.example", true, at("2026-10-01T08:00:00Z"));
    w.mail("jane@acme.example", false, at("2026-10-02T08:00:00Z"));

    SECTION("not before the history is read") {
        w.history_complete = false;
        CHECK(w.review().add.empty());
        w.history_complete = true;  // then read: the same review decides it
    }
    w.review();
    REQUIRE(w.count("silence") == 1);
    const Nudge silence = w.open("silence").at(0);
    CHECK(silence.due == at("2026-11-16T08:00:00Z"));
    CHECK(silence.text == "No mail with Acme Corp for 60 days (the last on 2026-10-02) — time to check in with Jane Doe.");
    // Not one a day.
    for (int day = 0; day < 30; ++day) {
        w.advance_days(1);
        CHECK(w.review().add.empty());
    }
    CHECK(w.count("silence") == 1);
    SECTION("done by the user: still once") {
        w.find(silence.id).state = NudgeState::done;
        w.advance_days(10);
        CHECK(w.review().add.empty());
    }
    SECTION("new mail closes it, and the next stretch gets the next one") {
        w.mail("carl@acme.example", true, std::chrono::floor<Seconds>(w.now));
        auto d = w.review();
        CHECK(d.close == std::vector<int64_t>{silence.id});
        CHECK(w.find(silence.id).state == NudgeState::done);
        w.advance_days(44);
        CHECK(w.review().add.empty());
        CHECK(w.review().next_review == Instant(std::chrono::floor<Seconds>(w.now) + Seconds{86400}));
        w.advance_days(2);
        CHECK(w.review().add.size() == 1);
        CHECK(w.count("silence") == 2);
        CHECK(w.open("silence").size() == 1);
    }
}

TEST_CASE("silence after downtime: told once at start, dated when it began", "[review]") {
    World w;
    w.rules = rules_with(kAcme, R"({"silence": {"after": "P45D"}})");
    w.mail("jane@acme.example", true, at("2026-11-20T08:00:00Z"));
    w.review();
    CHECK(w.count("silence") == 0);
    w.advance_days(200);  // the laptop was off
    w.review();
    REQUIRE(w.open("silence").size() == 1);
    CHECK(w.open("silence")[0].due == at("2027-01-04T08:00:00Z"));
    CHECK(w.review().add.empty());
}

TEST_CASE("an account with no mail at all is silent from when it was first reviewed", "[review]") {
    World w;
    w.rules = rules_with(kAcme, R"({"silence": {"after": "P45D"}})");
    w.review();
    w.advance_days(44);
    CHECK(w.review().add.empty());
    w.advance_days(1);
    REQUIRE(w.review().add.size() == 1);
    CHECK(w.open("silence")[0].text == "No mail with Acme Corp for 45 days — time to get in touch.");
}

TEST_CASE("single-threaded: one nudge, re-armed only after someone else wrote in", "[review]") {
    World w;
    w.rules = rules_with(kAcme, R"({"silence": {"enabled": false}})");
    const TimePoint t0 = at("2026-11-25T08:00:00Z");
    w.mail("jane@acme.example", true, t0);

    SECTION("one-way mail is not single-threaded") {
        CHECK(w.review().add.empty());
    }
    w.mail("jane@acme.example", false, t0 + Seconds{3600});
    w.mail("carl@acme.example", false, t0 + Seconds{7200});  // written to, never answered
    w.review();
    REQUIRE(w.open("single_threaded").size() == 1);
    const Nudge st = w.open("single_threaded")[0];
    CHECK(st.text == "Everything with Acme Corp runs through Jane Doe — meet someone else there. Jane Doe is the only "
                     "champion who wrote in 90 days: if they leave, nobody there knows you.");
    CHECK(w.review().add.empty());
    w.find(st.id).state = NudgeState::dismissed;
    w.advance_days(5);
    CHECK(w.review().add.empty());  // dismissed is not resolved: still once

    // Carl writes in: resolved, re-armed (an open nudge would be closed).
    w.mail("carl@acme.example", true, std::chrono::floor<Seconds>(w.now));
    CHECK(w.review().add.empty());
    CHECK(w.watches.at(0).single_threaded_armed);
    // 91 days later only Jane writes: single-threaded again, a second nudge.
    w.advance_days(91);
    w.mail("jane@acme.example", true, std::chrono::floor<Seconds>(w.now));
    w.mail("jane@acme.example", false, std::chrono::floor<Seconds>(w.now));
    w.review();
    CHECK(w.count("single_threaded") == 2);
}

TEST_CASE("single-threaded through someone who is not a champion says no champion is engaged", "[review]") {
    World w;
    w.rules = rules_with(kAcme, R"({"silence": {"enabled": false}})");
    const TimePoint t0 = at("2026-11-25T08:00:00Z");
    w.mail("carl@acme.example", true, t0);
    w.mail("carl@acme.example", false, t0);
    w.review();
    REQUIRE(w.open("single_threaded").size() == 1);
    CHECK(w.open("single_threaded")[0].text ==
          "Everything with Acme Corp runs through Carl Poe — meet someone else there. No champion engaged in 90 days.");
    // A second person writing in closes the open nudge.
    w.mail("jane@acme.example", true, t0 + Seconds{60});
    auto d = w.review();
    CHECK(d.close.size() == 1);
    CHECK(w.open("single_threaded").empty());
}

TEST_CASE("an owner change hands the account over once, with its open nudges", "[review]") {
    World w;
    w.rules = rules_with(kAcme, R"({"silence": {"after": "P45D"}})");
    w.review();
    w.advance_days(46);
    w.review();
    REQUIRE(w.open("silence").size() == 1);

    auto moved = std::string(kAcme);
    moved.replace(moved.find("\"owner\": \"bob\""), 14, "\"owner\": \"alice\"");
    w.rules = rules_with(moved, R"({"silence": {"after": "P45D"}})");
    auto d = w.review();
    REQUIRE(d.handoffs.size() == 1);
    CHECK(d.handoffs[0].from == "bob");
    CHECK(d.handoffs[0].to == "alice");
    CHECK(d.handoffs[0].sequence == 1);
    REQUIRE(d.handoffs[0].nudges.size() == 1);
    CHECK(d.handoffs[0].nudges[0].kind == "silence");
    CHECK(w.open("silence").empty());  // they went with the account
    CHECK(w.review().empty());
    w.advance_days(100);
    CHECK(w.review().add.empty());  // no longer ours: no nudges here

    SECTION("and back: ours again, and a second move is a second handoff") {
        w.rules = rules_with(kAcme, R"({"silence": {"after": "P45D"}})");
        CHECK(w.review().handoffs.empty());
        w.rules = rules_with(moved, R"({"silence": {"after": "P45D"}})");
        auto again = w.review();
        REQUIRE(again.handoffs.size() == 1);
        CHECK(again.handoffs[0].sequence == 2);
    }
}

TEST_CASE("the new owner's daemon picks up a lost account's nudges", "[review]") {
    World w;
    w.me = "alice";
    const std::string lost = R"([{"id": "initech", "name": "Initech", "domains": ["initech.example"], "owner": "bob",
        "stage": "lost", "lost": {"competitor": "Hooli"}}])";
    w.rules = rules_with(lost);
    w.review();
    CHECK(w.nudges.empty());
    auto mine = lost;
    mine.replace(mine.find("\"owner\": \"bob\""), 14, "\"owner\": \"alice\"");
    w.rules = rules_with(mine);
    auto d = w.review();
    CHECK(d.handoffs.empty());
    CHECK(d.add.size() == 3);
}

TEST_CASE("stale nudges: of those in the past only the newest is kept", "[review]") {
    const TimePoint now = at("2026-12-01T10:00:00Z");
    auto p = [](const char* due) { PlannedNudge n; n.due = at(due); return n; };
    auto kept = drop_stale({p("2026-12-05T00:00:00Z"), p("2026-01-01T00:00:00Z"), p("2026-11-01T00:00:00Z")}, now);
    REQUIRE(kept.size() == 2);
    CHECK(kept[0].due == at("2026-11-01T00:00:00Z"));
    CHECK(drop_stale({}, now).empty());
    CHECK(drop_stale({p("2026-12-01T10:00:00Z")}, now).size() == 1);
}

TEST_CASE("100,000 open nudges: the review and the schedule stay bounded", "[review]") {
    World w;
    w.rules = rules_with(kAcme, R"({"silence": {"enabled": false}})");
    for (int i = 0; i < 100000; ++i)
        w.nudges.push_back(Nudge{w.next_id++, "acme", "follow_up", at("2027-01-01T00:00:00Z") + Seconds{i}, NudgeState::pending, "x"});
    auto d = w.review();
    CHECK(d.add.empty());
    CHECK(next_nudge_wake(w.nudges, w.now) == Instant(at("2027-01-01T00:00:00Z")));
    CHECK(nudges_to_fire(w.nudges, w.now).empty());
}

TEST_CASE("loss nudge offsets: zero and a century are refused with their path", "[review]") {
    for (const char* bad : {R"(["PT0S"])", R"(["P36500D"])"}) {
        auto r = parse_rules(std::string(R"({"organization": {"name": "V", "domains": ["vendor.example"]}, "people": [],
            "accounts": [], "rules": {"loss": {"nudges": )") + bad + "}}}", "rules.json");
        REQUIRE_FALSE(r.rules);
        CHECK(r.diagnostics.front().to_string().find("$.rules.loss.nudges[0]") != std::string::npos);
    }
}
