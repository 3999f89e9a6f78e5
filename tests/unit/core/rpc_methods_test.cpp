// The API's methods without a socket or a database: a fake backend in memory, a fixed clock.
#include <catch2/catch.hpp>

#include <map>
#include <set>

#include "fake_rpc_backend.hpp"
#include "rapport/rpc_methods.hpp"

using namespace rapport;
using nlohmann::json;

namespace {

using rapport::test::FakeBackend;

int error_code(FakeBackend& b, const std::string& method, const json& params) {
    try {
        rpc::dispatch(method, params, b);
    } catch (const rpc::Failure& f) {
        return f.code();
    }
    return 0;
}

}  // namespace

TEST_CASE("lookup explains each address and shows the last contact", "[rpc]") {
    FakeBackend b;
    auto r = rpc::dispatch("lookup", {{"addresses", {"Jane Doe <JANE@acme.example>", "x@gmail.com", "nonsense"}}}, b);
    REQUIRE(r["results"].size() == 3);
    const auto& jane = r["results"][0];
    CHECK(jane["address"] == "jane@acme.example");
    CHECK(jane["match"] == "contact");
    CHECK(jane["account"]["id"] == "acme");
    CHECK(jane["account"]["owner"]["name"] == "Bob Rep");
    CHECK(jane["account"]["reference"] == true);
    CHECK(jane["contact"]["champion"] == true);
    CHECK(jane["last_contact"] == "2026-11-20");
    CHECK(r["results"][1]["match"] == "none");
    CHECK(r["results"][1]["account"].is_null());
    CHECK(r["results"][2]["reason"] == "not a mail address");
}

TEST_CASE("lookup and compose.check read the store once per request, whatever the number of addresses", "[rpc]") {
    FakeBackend b;
    b.contact_states["jane@acme.example"] = "left";
    auto r = rpc::dispatch("lookup", {{"addresses", {"jane@acme.example", "carl@acme.example", "x@gmail.com", "nonsense"}}}, b);
    CHECK(b.address_reads == 1);
    REQUIRE(r["results"].size() == 4);
    CHECK(r["results"][0]["contact"]["state"] == "left");
    CHECK(r["results"][0]["last_contact"] == "2026-11-20");
    CHECK(r["results"][1]["contact"].is_null());

    auto c = rpc::dispatch("compose.check", {{"from", "mia@vendor.example"},
                                            {"to", {"jane@acme.example", "carl@acme.example"}},
                                            {"cc", {"Jane <jane@acme.example>"}}}, b);
    CHECK(b.address_reads == 2);
    std::size_t left = 0;
    for (const auto& n : c["notices"]) left += n["kind"] == "left";
    CHECK(left == 1);  // Jane once, though she is on the message twice

    rpc::dispatch("compose.check", {{"from", "mia@vendor.example"}, {"to", {"x@gmail.com"}}}, b);
    CHECK(b.address_reads == 2);  // no listed contact: nothing to read
}

TEST_CASE("compose.check copies the owner when someone else writes to the customer", "[rpc]") {
    FakeBackend b;
    auto r = rpc::dispatch("compose.check", {{"from", "Mia <mia@vendor.example>"}, {"to", {"jane@acme.example"}}}, b);
    REQUIRE(r["add_cc"].size() == 1);
    CHECK(r["add_cc"][0]["address"] == "bob@vendor.example");
    CHECK(r["add_cc"][0]["account"] == "acme");
    CHECK(r["add_cc"][0]["reason"] == "Bob Rep owns Acme Corp (jane@acme.example is listed as a contact of Acme Corp (acme))");
    REQUIRE(r["notices"].size() == 1);
    CHECK(r["notices"][0]["kind"] == "reference");

    SECTION("not when the owner writes") {
        auto own = rpc::dispatch("compose.check", {{"from", "bob@vendor.example"}, {"to", {"jane@acme.example"}}}, b);
        CHECK(own["add_cc"].empty());
    }
    SECTION("not when the owner is already on the message, in any field") {
        auto already = rpc::dispatch("compose.check", {{"from", "mia@vendor.example"}, {"to", {"carl@acme.example"}},
                                                       {"bcc", {"Bob <BOB@vendor.example>"}}}, b);
        CHECK(already["add_cc"].empty());
    }
    SECTION("once per account however many of its people are addressed") {
        auto many = rpc::dispatch("compose.check", {{"from", "mia@vendor.example"},
                                                    {"to", {"jane@acme.example", "carl@acme.example"}},
                                                    {"cc", {"ann@sales.acme.example"}}}, b);
        CHECK(many["add_cc"].size() == 1);
    }
    SECTION("a lost account is pointed out") {
        auto lost = rpc::dispatch("compose.check", {{"from", "bob@vendor.example"}, {"to", {"bill@initech.example"}}}, b);
        REQUIRE(lost["notices"].size() == 1);
        CHECK(lost["notices"][0]["text"] == "Initech is a lost account (went with Hooli); the competitor's delivery is due 2027-01-31.");
    }
}

TEST_CASE("deal.lost plans nudges from the rules; reopen cancels them", "[rpc]") {
    FakeBackend b;
    auto r = rpc::dispatch("deal.lost", {{"account", "acme"}, {"competitor", "Hooli"}, {"delivery", "2027-03-01"}}, b);
    REQUIRE(r["nudges"].size() == 3);
    CHECK(r["nudges"][0]["due"] == "2026-12-09T10:00:00Z");
    CHECK(r["nudges"][0]["kind"] == "follow_up");
    CHECK(r["nudges"][0]["text"] == "Acme Corp went with Hooli 14 days ago — ask Jane Doe how the roll-out is going.");
    CHECK(r["nudges"][1]["due"] == "2027-01-09T10:00:00Z");
    CHECK(r["nudges"][2]["kind"] == "delivery");
    CHECK(r["nudges"][2]["due"] == "2027-03-01T09:00:00Z");
    CHECK(r["nudges"][2]["text"] == "Hooli was due to deliver to Acme Corp today (2027-03-01) — check in with Jane Doe: is it live, and is it what they were promised?");
    CHECK(rpc::dispatch("nudges.list", json::object(), b)["nudges"].size() == 3);

    // Marking it lost again replaces, not duplicates, the open nudges.
    rpc::dispatch("deal.lost", {{"account", "acme"}}, b);
    CHECK(rpc::dispatch("nudges.list", json::object(), b)["nudges"].size() == 2);

    CHECK(rpc::dispatch("deal.reopen", {{"account", "acme"}}, b) == json::object());
    CHECK(rpc::dispatch("nudges.list", json::object(), b)["nudges"].empty());
    CHECK(rpc::dispatch("nudges.list", {{"state", "all"}}, b)["nudges"].size() == 5);
}

TEST_CASE("nudges can be snoozed, done and dismissed, with sane state rules", "[rpc]") {
    FakeBackend b;
    rpc::dispatch("deal.lost", {{"account", "acme"}}, b);
    auto snoozed = rpc::dispatch("nudges.snooze", {{"id", 1}, {"for", "P3D"}}, b);
    CHECK(snoozed["state"] == "snoozed");
    CHECK(snoozed["due"] == "2026-11-28T10:00:00Z");
    snoozed = rpc::dispatch("nudges.snooze", {{"id", 1}, {"until", "2026-12-24T08:00:00+01:00"}}, b);
    CHECK(snoozed["due"] == "2026-12-24T07:00:00Z");
    CHECK(rpc::dispatch("nudges.done", {{"id", 1}}, b)["state"] == "done");
    CHECK(rpc::dispatch("nudges.done", {{"id", 1}}, b)["state"] == "done");  // retry is harmless
    CHECK(error_code(b, "nudges.dismiss", {{"id", 1}}) == rpc::code::invalid_state);
    CHECK(error_code(b, "nudges.snooze", {{"id", 1}, {"for", "P1D"}}) == rpc::code::invalid_state);
    CHECK(rpc::dispatch("nudges.dismiss", {{"id", 2}}, b)["state"] == "dismissed");
    CHECK(error_code(b, "nudges.done", {{"id", 99}}) == rpc::code::unknown_nudge);
}

TEST_CASE("bad parameters get -32602 with a message that says what is wrong", "[rpc]") {
    FakeBackend b;
    auto message = [&](const std::string& method, const json& params) {
        try {
            rpc::dispatch(method, params, b);
        } catch (const rpc::Failure& f) {
            CHECK(f.code() == rpc::code::invalid_params);
            return std::string(f.what());
        }
        return std::string("no error");
    };
    CHECK(message("lookup", json::object()) == "missing parameter \"addresses\"");
    CHECK(message("lookup", {{"addresses", "jane@acme.example"}}) == "\"addresses\" must be an array of strings");
    CHECK(message("lookup", {{"addresses", {1, 2}}}) == "\"addresses\" must be an array of strings");
    CHECK(message("lookup", json::array({"a"})) == "params must be an object with named members");
    CHECK(message("lookup", {{"addresses", json::array()}, {"extra", 1}}) == "unknown parameter \"extra\"");
    CHECK(message("compose.check", {{"to", json::array()}}) == "missing parameter \"from\"");
    CHECK(message("nudges.snooze", {{"id", "1"}}) == "\"id\" must be an integer");
    CHECK(message("nudges.list", {{"state", "weird"}}) == "\"state\" must be pending, due or all");
    CHECK(message("meetings.list", {{"from", "yesterday"}}) ==
          "\"from\" must be an ISO 8601 date-time with a zone, e.g. 2026-12-01T09:00:00Z");
    CHECK(message("deal.lost", {{"account", "acme"}, {"delivery", "soon"}}) == "\"delivery\" must be a date such as 2027-01-31");
    CHECK(error_code(b, "deal.lost", {{"account", "nope"}}) == rpc::code::unknown_account);
    CHECK(error_code(b, "notifications.ack", {{"id", 42}}) == rpc::code::unknown_notification);
    CHECK(error_code(b, "notifications.ack", {{"id", 2}}) == 0);
    CHECK(error_code(b, "no.such.method", json::object()) == rpc::code::method_not_found);
    CHECK(rpc::subscribe_after(json::object()) == 0);
    CHECK(rpc::subscribe_after({{"after", 7}}) == 7);
    CHECK_THROWS_AS(rpc::subscribe_after({{"after", "7"}}), rpc::Failure);
}

TEST_CASE("accounts.health: engagement, single-threading and silence from the mail seen", "[rpc]") {
    FakeBackend b;
    const TimePoint now = b.now();
    b.seen["acme"] = {{"jane@acme.example", now - Seconds{10 * 86400}, now - Seconds{9 * 86400}},
                      {"carl@acme.example", std::nullopt, now - Seconds{3 * 86400}}};
    b.contact_states["carl@acme.example"] = "bounced";
    auto h = rpc::dispatch("accounts.health", {{"account", "acme"}}, b);
    CHECK(h["account"] == "acme");
    CHECK(h["engaged_contacts"] == 1);
    CHECK(h["single_threaded"] == true);
    CHECK(h["silent_days"] == 3);
    CHECK(h["last_contact"] == format_datetime(now - Seconds{3 * 86400}));
    bool carl_seen = false;
    for (const auto& c : h["contacts"])
        if (c["address"] == "carl@acme.example") {
            carl_seen = true;
            CHECK(c["state"] == "bounced");
            CHECK(c["engaged"] == false);
            CHECK(c["last_in"].is_null());
        }
    CHECK(carl_seen);
    CHECK_THROWS_AS(rpc::dispatch("accounts.health", {{"account", "nope"}}, b), rpc::Failure);
    CHECK_THROWS_AS(rpc::dispatch("accounts.health", json::object(), b), rpc::Failure);
}

TEST_CASE("deal.lost with a delivery date already past warns and plans only the follow-ups", "[rpc]") {
    FakeBackend b;
    auto r = rpc::dispatch("deal.lost", {{"account", "acme"}, {"delivery", "2020-01-01"}}, b);
    CHECK(r["nudges"].size() == 2);
    REQUIRE(r["warnings"].size() == 1);
    CHECK(r["warnings"][0].get<std::string>().find("2020-01-01 has passed") != std::string::npos);
}
