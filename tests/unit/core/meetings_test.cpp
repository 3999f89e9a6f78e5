#include <catch2/catch.hpp>

#include "rapport/meetings.hpp"

using namespace rapport;

namespace {

std::shared_ptr<const AccountDirectory> directory() {
    auto r = parse_rules(R"json({
      "organization": {"name": "Vendor Inc", "domains": ["vendor.example"]},
      "people": [{"id": "bob", "name": "Bob Rep", "addresses": ["bob@vendor.example", "robert@vendor.example"]}],
      "accounts": [{"id": "acme", "name": "Acme Corp", "domains": ["acme.example"], "owner": "bob"}]
    })json", "rules.json");
    REQUIRE(r.rules);
    return std::make_shared<AccountDirectory>(r.rules);
}

TimePoint at(const char* iso) { return *parse_datetime(iso); }

CalendarOccurrence call(const char* start, const char* end) {
    CalendarOccurrence o;
    o.calendar = "work";
    o.uid = "u1";
    o.occurrence = o.start = at(start);
    o.end = at(end);
    o.title = "Acme QBR";
    o.organizer = {"mailto:BOB@vendor.example", "Bob", ""};
    o.attendees = {{"jane@acme.example", "Jane", "ACCEPTED"}, {"bob@vendor.example", "Bob", "ACCEPTED"}};
    return o;
}

}  // namespace

TEST_CASE("a meeting with a customer that the user attends is a customer meeting", "[meetings]") {
    auto dir = directory();
    const auto users = user_addresses("robert@vendor.example", dir->rules());
    CHECK(users == std::vector<std::string>{"robert@vendor.example", "bob@vendor.example"});
    const auto now = at("2026-11-25T09:00:00Z");
    auto m = as_customer_meeting(call("2026-11-25T10:00:00Z", "2026-11-25T11:00:00Z"), *dir, users, now);
    REQUIRE(m);
    CHECK(m->accounts.size() == 1);
    CHECK(m->state == "upcoming");
    CHECK(meeting_json(*m)["accounts"] == nlohmann::json::array({"acme"}));
    CHECK(meeting_json(*m)["end"] == "2026-11-25T11:00:00Z");
}

TEST_CASE("internal meetings, declined ones, other people's and all-day events are not", "[meetings]") {
    auto dir = directory();
    const auto users = user_addresses("bob@vendor.example", dir->rules());
    const auto now = at("2026-11-25T09:00:00Z");
    auto internal = call("2026-11-25T10:00:00Z", "2026-11-25T11:00:00Z");
    internal.attendees = {{"mia@vendor.example", "", "ACCEPTED"}};
    CHECK_FALSE(as_customer_meeting(internal, *dir, users, now));

    auto declined = call("2026-11-25T10:00:00Z", "2026-11-25T11:00:00Z");
    declined.organizer = {"jane@acme.example", "Jane", ""};
    declined.attendees = {{"bob@vendor.example", "Bob", "DECLINED"}};
    CHECK_FALSE(as_customer_meeting(declined, *dir, users, now));
    declined.attendees[0].partstat = "TENTATIVE";
    CHECK(as_customer_meeting(declined, *dir, users, now));

    auto others = call("2026-11-25T10:00:00Z", "2026-11-25T11:00:00Z");
    others.organizer = {"mia@vendor.example", "", ""};
    others.attendees = {{"jane@acme.example", "", "ACCEPTED"}};
    CHECK_FALSE(as_customer_meeting(others, *dir, users, now));

    auto all_day = call("2026-11-25T00:00:00Z", "2026-11-26T00:00:00Z");
    all_day.all_day = true;
    CHECK_FALSE(as_customer_meeting(all_day, *dir, users, now));
}

TEST_CASE("each occurrence ends once; catch-up is bounded; cancelled never ends", "[meetings]") {
    auto dir = directory();
    const auto users = user_addresses("bob@vendor.example", dir->rules());
    const auto now = at("2026-11-25T12:00:00Z");
    std::vector<Meeting> meetings;
    auto add = [&](const char* uid, const char* start, const char* end, bool cancelled = false) {
        auto o = call(start, end);
        o.uid = uid;
        o.cancelled = cancelled;
        meetings.push_back(*as_customer_meeting(o, *dir, users, now));
    };
    add("just-ended", "2026-11-25T11:00:00Z", "2026-11-25T11:30:00Z");
    add("yesterday", "2026-11-24T15:00:00Z", "2026-11-24T16:00:00Z");
    add("last-week", "2026-11-18T15:00:00Z", "2026-11-18T16:00:00Z");
    add("later", "2026-11-25T14:00:00Z", "2026-11-25T15:00:00Z");
    add("soon", "2026-11-25T12:30:00Z", "2026-11-25T13:00:00Z");
    add("cancelled", "2026-11-25T10:00:00Z", "2026-11-25T10:30:00Z", true);

    auto d = decide_endings(meetings, {}, now, Seconds{24 * 3600});
    REQUIRE(d.fire.size() == 2);
    CHECK(d.fire[0].occurrence.uid == "just-ended");
    CHECK(d.fire[1].occurrence.uid == "yesterday");
    REQUIRE(d.expire.size() == 1);
    CHECK(d.expire[0].occurrence.uid == "last-week");
    CHECK(d.next_end == at("2026-11-25T13:00:00Z"));

    std::set<OccurrenceKey> ended;
    for (const auto& m : d.fire) ended.insert(key_of(m.occurrence));
    for (const auto& m : d.expire) ended.insert(key_of(m.occurrence));
    auto again = decide_endings(meetings, ended, now, Seconds{24 * 3600});
    CHECK(again.fire.empty());
    CHECK(again.expire.empty());
}

TEST_CASE("a moved occurrence ends at its new end, under the same identity", "[meetings]") {
    auto dir = directory();
    const auto users = user_addresses("bob@vendor.example", dir->rules());
    auto original = call("2026-11-25T10:00:00Z", "2026-11-25T11:00:00Z");
    auto moved = original;  // same UID and RECURRENCE-ID, moved to the afternoon
    moved.start = at("2026-11-25T15:00:00Z");
    moved.end = at("2026-11-25T16:00:00Z");
    CHECK(key_of(moved) == key_of(original));
    const auto noon = at("2026-11-25T12:00:00Z");
    auto m = *as_customer_meeting(moved, *dir, users, noon);
    auto d = decide_endings({m}, {}, noon, Seconds{86400});
    CHECK(d.fire.empty());  // the old end time has passed, but the meeting did not end
    CHECK(d.next_end == at("2026-11-25T16:00:00Z"));
    auto later = decide_endings({m}, {}, at("2026-11-25T16:00:01Z"), Seconds{86400});
    CHECK(later.fire.size() == 1);
}
