// What changes to an account bring, end to end with a real Dovecot and rapportd: a lost
// account whose contact writes in, an owner change in the rules (the old owner's handoff draft),
// and mail in Sent that left without the owner (the FYI draft). Drafts are read back with
// doveadm — what the user sees — and must exist exactly once, also after reloads and restarts.
#include <catch2/catch.hpp>

#include <csignal>
#include <ctime>
#include <map>
#include <thread>

#include "dovecot_fixture.hpp"
#include "drafts_folder.hpp"
#include "rapportd_fixture.hpp"

using namespace rapport::test;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

std::string rules(const std::string& owner) {
    return R"({
  "organization": {"name": "Vendor Inc", "domains": ["vendor.example"]},
  "people": [{"id": "bob", "name": "Bob Rep", "addresses": ["bob@vendor.example"]},
             {"id": "alice", "name": "Alice Rep", "addresses": ["alice@vendor.example"]},
             {"id": "mia", "name": "Mia Marketing", "addresses": ["mia@vendor.example"], "role": "marketing"}],
  "accounts": [{"id": "acme", "name": "Acme Corp", "domains": ["acme.example"], "owner": ")" + owner + R"(",
                "contacts": [{"address": "jane@acme.example", "name": "Jane Doe", "champion": true}]}]
})";
}

json settings(DovecotFixture& dovecot, const std::string& name, const std::string& address) {
    return {{"user", {{"name", name}, {"address", address}}},
            {"mailboxes", {{{"id", "work"}, {"poll_interval", "PT30S"},
                            {"imap", {{"host", "127.0.0.1"}, {"port", dovecot.port()}, {"security", "none"},
                                      {"username", dovecot.user()}, {"password", dovecot.password()}}},
                            {"folders", {{"watch", {"INBOX", "Sent"}}, {"sent", "Sent"}, {"drafts", "Drafts"}}}}}}};
}

std::string rfc2822_now() {
    std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S +0000", &tm);
    return buf;
}

std::string message(const std::string& from, const std::string& to, const std::string& subject, const std::string& id) {
    return "From: " + from + "\r\nTo: " + to + "\r\nSubject: " + subject + "\r\nDate: " + rfc2822_now() +
           "\r\nMessage-ID: <" + id + "@test.example>\r\n\r\nHello.\r\n";
}

void wait_idle(RapportdFixture& d) {
    d.wait_status([](const json& s) { return s["mailboxes"][0]["state"] == "idle"; }, 30s);
}

// The notifications by kind received on this connection (subscribed with after 0, so
// everything stored is replayed), after listening a little longer for late ones. The listening
// ends in a receive timeout, which closes the test's connection: call it last on a connection.
std::map<std::string, int> count_kinds(RapportdFixture& d, std::chrono::milliseconds listen = 2s) {
    d.wait_notification([](const json&) { return false; }, listen);
    std::map<std::string, int> n;
    for (const auto& x : d.notifications_) ++n[x["kind"].get<std::string>()];
    return n;
}

int count_kind(RapportdFixture& d, const std::string& kind) { return count_kinds(d)[kind]; }

// After a restart: a new connection, replayed from the first stored notification.
int count_after_restart(RapportdFixture& d, const std::string& kind) {
    d.call("subscribe", {{"after", 0}});
    return count_kind(d, kind);
}

}  // namespace

TEST_CASE("a contact of an account lost through the API writes in: one lost_account_wrote", "[accounts]") {
    DovecotFixture dovecot;
    RapportdFixture d(rules("bob"), settings(dovecot, "Bob Rep", "bob@vendor.example"));
    wait_idle(d);
    d.call("deal.lost", {{"account", "acme"}, {"competitor", "Hooli"}});
    d.call("subscribe", {{"after", 0}});
    dovecot.append("INBOX", message("Jane Doe <jane@acme.example>", "bob@vendor.example", "Checking in", "lost-1"));
    auto n = d.wait_notification([](const json& x) { return x["kind"] == "lost_account_wrote"; }, 20s);
    INFO(d.log());
    REQUIRE(n);
    CHECK((*n)["account"] == "acme");
    CHECK((*n)["message_id"] == "lost-1@test.example");
    CHECK(count_kind(d, "lost_account_wrote") == 1);
    d.restart();
    wait_idle(d);
    CHECK(count_after_restart(d, "lost_account_wrote") == 1);
    for (const auto& [uid, flags] : dovecot.flags("INBOX")) CHECK(flags.find("\\Seen") == std::string::npos);
}

TEST_CASE("an owner change in the rules: one handoff draft in the old owner's Drafts", "[accounts]") {
    DovecotFixture dovecot;
    dovecot.append("INBOX", message("Jane Doe <jane@acme.example>", "bob@vendor.example", "Renewal quote", "h-1"));
    RapportdFixture d(rules("bob"), settings(dovecot, "Bob Rep", "bob@vendor.example"));
    wait_idle(d);
    d.call("deal.lost", {{"account", "acme"}, {"competitor", "Hooli"}});
    REQUIRE(d.call("nudges.list")["nudges"].size() == 3);
    d.call("subscribe", {{"after", 0}});

    write_file(d.dir() / "rules.json", rules("alice"));
    d.signal(SIGHUP);
    auto drafts = wait_drafts(dovecot, 1, 20s);
    INFO(d.log());
    INFO("doveadm: " << last_doveadm_output);
    REQUIRE(drafts.size() == 1);
    CHECK(drafts[0].id.rfind("f-", 0) == 0);
    CHECK(drafts[0].subject == "Handover: Acme Corp");
    CHECK(drafts[0].to.find("alice@vendor.example") != std::string::npos);
    CHECK(drafts[0].flags.find("\\Draft") != std::string::npos);
    auto told = d.wait_notification([](const json& x) { return x["kind"] == "fyi_draft"; }, 10s);
    REQUIRE(told);
    CHECK((*told)["purpose"] == "handoff");
    // The open follow-ups went with the account.
    CHECK(d.call("nudges.list")["nudges"].empty());
    const auto listed = d.call("drafts.list")["drafts"];
    REQUIRE(listed.size() == 1);
    CHECK(listed[0]["kind"] == "fyi");

    // Again, and after a restart: still one.
    d.signal(SIGHUP);
    std::this_thread::sleep_for(2s);
    d.restart();
    wait_idle(d);
    std::this_thread::sleep_for(2s);
    CHECK(drafts_in(dovecot).size() == 1);
    CHECK(count_after_restart(d, "fyi_draft") == 1);
}

TEST_CASE("mail in Sent that left without the owner: one FYI draft to the owner", "[accounts]") {
    DovecotFixture dovecot;
    RapportdFixture d(rules("bob"), settings(dovecot, "Mia Marketing", "mia@vendor.example"));
    wait_idle(d);
    d.call("subscribe", {{"after", 0}});
    dovecot.append("Sent", message("Mia Marketing <mia@vendor.example>", "Jane Doe <jane@acme.example>",
                                   "Case study", "sent-1"));
    auto drafts = wait_drafts(dovecot, 1, 20s);
    INFO(d.log());
    INFO("doveadm: " << last_doveadm_output);
    REQUIRE(drafts.size() == 1);
    CHECK(drafts[0].subject == "FYI: Case study");
    CHECK(drafts[0].to.find("bob@vendor.example") != std::string::npos);
    auto told = count_kinds(d);
    CHECK(told["owner_not_copied"] == 1);
    CHECK(told["fyi_draft"] == 1);
    d.restart();
    wait_idle(d);
    std::this_thread::sleep_for(2s);
    CHECK(drafts_in(dovecot).size() == 1);
    CHECK(count_after_restart(d, "fyi_draft") == 1);
    for (const auto& [uid, flags] : dovecot.flags("Sent")) CHECK(flags.find("\\Seen") == std::string::npos);
}
