// SPECIAL-USE folders (RFC 6154) against a real Dovecot whose Sent folder is "Sent Items"
// (\Sent) and whose Drafts folder is "Brouillons" (\Drafts), with no "folders" in the
// settings: the Sent audit reads "Sent Items" (and not a plain "Sent" folder that also
// exists), and a summary draft lands in "Brouillons". Read back with doveadm, not through
// rapportd.
#include <catch2/catch.hpp>

#include <ctime>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "dovecot_fixture.hpp"
#include "rapportd_fixture.hpp"
#include "test_time_text.hpp"

using namespace rapport::test;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

const char* kRules = R"({
  "organization": {"name": "Vendor Inc", "domains": ["vendor.example"]},
  "people": [{"id": "bob", "name": "Bob Rep", "addresses": ["bob@vendor.example"]},
             {"id": "mia", "name": "Mia Marketing", "addresses": ["mia@vendor.example"], "role": "marketing"}],
  "accounts": [{"id": "acme", "name": "Acme Corp", "domains": ["acme.example"], "owner": "bob",
                "contacts": [{"address": "jane@acme.example", "name": "Jane Doe"}]}],
  "rules": {"summary_drafts": {"delay": "PT1S", "min_duration": "PT10M", "catch_up": "PT24H"}}
})";

std::string sent_copy(const std::string& id) {
    return "From: Mia Marketing <mia@vendor.example>\r\nTo: Jane Doe <jane@acme.example>\r\n"
           "Date: Tue, 24 Nov 2026 10:00:00 +0000\r\nSubject: Case study " + id + "\r\nMessage-ID: <" + id +
           ">\r\nContent-Type: text/plain\r\n\r\nHello.\r\n";
}

// A customer call that ended two seconds ago: its summary draft is due at once.
std::string calendar_with_ended_call() {
    return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//rapport tests//EN\r\n"
           "BEGIN:VEVENT\r\nUID:qbr-special\r\nDTSTAMP:20261101T000000Z\r\nDTSTART:" + ical_in(-32 * 60) +
           "\r\nDTEND:" + ical_in(-2) + "\r\nSUMMARY:Acme QBR\r\n"
           "ORGANIZER;CN=Mia Marketing:mailto:mia@vendor.example\r\n"
           "ATTENDEE;CN=Jane Doe;PARTSTAT=ACCEPTED:MAILTO:jane@acme.example\r\n"
           "ATTENDEE;CN=Mia Marketing;PARTSTAT=ACCEPTED:MAILTO:mia@vendor.example\r\n"
           "END:VEVENT\r\nEND:VCALENDAR\r\n";
}

DovecotFixture::Options special_use_server() {
    DovecotFixture::Options o;
    // A plain "Sent" exists too, without the attribute: the old default must not win.
    o.folders = {"Sent Items", "Brouillons", "Sent"};
    o.special_use = {{"Sent Items", "\\Sent"}, {"Brouillons", "\\Drafts"}};
    return o;
}

// The X-Rapport-Draft ids in a folder, as Dovecot has them.
std::vector<std::string> draft_ids(DovecotFixture& dovecot, const std::string& folder) {
    std::string out;
    try {
        out = dovecot.doveadm({"-f", "tab", "fetch", "-u", dovecot.user(), "hdr.x-rapport-draft", "mailbox", folder, "all"});
    } catch (const std::runtime_error&) {
        return {};
    }
    std::vector<std::string> ids;
    std::istringstream in(out);
    std::string line;
    std::getline(in, line);  // column names
    while (std::getline(in, line))
        if (!line.empty()) ids.push_back(line);
    return ids;
}

}  // namespace

TEST_CASE("without folders settings, the Sent audit and the drafts use the SPECIAL-USE folders", "[mail][drafts][special-use]") {
    DovecotFixture dovecot(special_use_server());
    dovecot.append("Sent", sent_copy("plain-sent@vendor.example"));
    RapportdFixture d(kRules,
                      {{"user", {{"name", "Mia Marketing"}, {"address", "mia@vendor.example"}}},
                       {"mailboxes", {{{"id", "work"},
                                       {"imap", {{"host", "127.0.0.1"}, {"port", dovecot.port()}, {"security", "none"},
                                                 {"username", dovecot.user()}, {"password", dovecot.password()}}}}}},
                       {"calendars", {{{"id", "work"}, {"url", "file:calendar.ics"}, {"poll_interval", "PT1S"}}}}},
                      [](const TempDir& dir) { write_file(dir / "calendar.ics", calendar_with_ended_call()); });
    d.call("subscribe", {{"after", 0}});

    // The summary draft goes to the \Drafts folder; no "Drafts" folder is created.
    const auto note = d.wait_notification([](const json& n) { return n["kind"] == "summary_draft"; }, 30s);
    INFO(d.log());
    REQUIRE(note);
    CHECK((*note)["text"].get<std::string>().find("Brouillons") != std::string::npos);
    const auto in_brouillons = draft_ids(dovecot, "Brouillons");
    CHECK(in_brouillons.size() == 1);
    CHECK(draft_ids(dovecot, "Drafts").empty());

    // The Sent audit reads "Sent Items": the mail watched there is audited.
    auto s = d.wait_status([](const json& st) {
        const auto& m = st["mailboxes"][0];
        return m["state"] == "idle" && !m.contains("scan");
    }, 60s);
    REQUIRE(s["mailboxes"][0]["state"] == "idle");
    dovecot.append("Sent Items", sent_copy("uncopied@vendor.example"));
    const auto uncopied = d.wait_notification([](const json& n) { return n["kind"] == "owner_not_copied"; }, 20s);
    REQUIRE(uncopied);
    CHECK((*uncopied)["message_id"] == "uncopied@vendor.example");
    CHECK(d.log().find("the Sent folder is \"Sent Items\" (special-use)") != std::string::npos);
    // The plain "Sent" folder is not watched at all: its message was never seen.
    for (const auto& n : d.notifications_) CHECK(n.value("message_id", "") != "plain-sent@vendor.example");
}

TEST_CASE("folders.sent in the settings wins over SPECIAL-USE", "[mail][special-use]") {
    DovecotFixture dovecot(special_use_server());
    RapportdFixture d(kRules,
                      {{"user", {{"name", "Mia Marketing"}, {"address", "mia@vendor.example"}}},
                       {"mailboxes", {{{"id", "work"},
                                       {"imap", {{"host", "127.0.0.1"}, {"port", dovecot.port()}, {"security", "none"},
                                                 {"username", dovecot.user()}, {"password", dovecot.password()}}},
                                       {"folders", {{"watch", {"INBOX", "Sent", "Sent Items"}}, {"sent", "Sent"}}}}}}});
    d.call("subscribe", {{"after", 0}});
    auto s = d.wait_status([](const json& st) {
        const auto& m = st["mailboxes"][0];
        return m["state"] == "idle" && !m.contains("scan");
    }, 60s);
    INFO(d.log());
    REQUIRE(s["mailboxes"][0]["state"] == "idle");
    // "Sent Items" is watched as an ordinary folder here: customer mail, but no audit.
    dovecot.append("Sent Items", sent_copy("items@vendor.example"));
    dovecot.append("Sent", sent_copy("configured@vendor.example"));
    const auto uncopied = d.wait_notification([](const json& n) { return n["kind"] == "owner_not_copied"; }, 20s);
    REQUIRE(uncopied);
    CHECK((*uncopied)["message_id"] == "configured@vendor.example");
    REQUIRE(d.wait_notification([](const json& n) {
        return n["kind"] == "customer_mail" && n["message_id"] == "items@vendor.example";
    }, 20s));
    for (const auto& n : d.notifications_)
        if (n["kind"] == "owner_not_copied") CHECK(n["message_id"] != "items@vendor.example");
}
