// The Sent audit against a real Dovecot: an owner copied blindly (Bcc, under a second address)
// is copied; a message the submission listener relayed (owners added on the way out) is not
// reported when the client's own Sent copy, without that Cc, shows up; and a restart repeats
// nothing. The relay goes to a real SMTP sink (aiosmtpd), the client is Python's smtplib.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "dovecot_fixture.hpp"
#include "rapportd_fixture.hpp"

using namespace rapport::test;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

const char* kRules = R"({
  "organization": {"name": "Vendor Inc", "domains": ["vendor.example"]},
  "people": [{"id": "bob", "name": "Bob Rep", "addresses": ["bob@vendor.example", "robert@vendor.example"]},
             {"id": "mia", "name": "Mia Marketing", "addresses": ["mia@vendor.example"], "role": "marketing"}],
  "accounts": [{"id": "acme", "name": "Acme Corp", "domains": ["acme.example"], "owner": "bob",
                "contacts": [{"address": "jane@acme.example", "name": "Jane Doe"}]}]
})";

std::string sent_copy(const std::string& id, const std::string& extra = "") {
    return "From: Mia Marketing <mia@vendor.example>\r\nTo: Jane Doe <jane@acme.example>\r\n" + extra +
           "Date: Tue, 24 Nov 2026 10:00:00 +0000\r\nSubject: Case study " + id + "\r\nMessage-ID: <" + id +
           ">\r\nContent-Type: text/plain\r\n\r\nHello.\r\n";
}

class Daemon : public RapportdFixture {
public:
    Daemon(DovecotFixture& dovecot, int submission_port, int sink_port)
        : RapportdFixture(kRules,
                          {{"user", {{"name", "Mia Marketing"}, {"address", "mia@vendor.example"}}},
                           {"mailboxes",
                            {{{"id", "work"},
                              {"imap", {{"host", "127.0.0.1"}, {"port", dovecot.port()}, {"security", "none"},
                                        {"username", dovecot.user()}, {"password", dovecot.password()}}},
                              {"smtp", {{"host", "127.0.0.1"}, {"port", sink_port}, {"security", "none"}}},
                              {"submission", {{"port", submission_port}}},
                              {"folders", {{"watch", {"INBOX", "Sent"}}, {"sent", "Sent"}, {"drafts", "Drafts"}}}}}}}) {}

    void wait_synced() {
        auto s = wait_status([](const json& st) {
            const auto& m = st["mailboxes"][0];
            return (m["state"] == "idle" || m["state"] == "polling") && !m.contains("scan");
        }, 60s);
        const auto& m = s["mailboxes"][0];
        if (!((m["state"] == "idle" || m["state"] == "polling") && !m.contains("scan")))
            FAIL("mailbox never caught up: " << s.dump() << "\n" << log());
    }

    std::vector<std::string> uncopied() const {
        std::vector<std::string> ids;
        for (const auto& n : notifications_)
            if (n["kind"] == "owner_not_copied") ids.push_back(n["message_id"]);
        return ids;
    }
};

}  // namespace

TEST_CASE("Sent audit: Bcc under a second address and relayed mail are not uncopied; restart repeats nothing",
          "[mail][submission]") {
    DovecotFixture dovecot;
    const int sink_port = free_port(), submission_port = free_port();
    TempDir sink_dir;
    Child sink({"/usr/bin/python3", "-m", "aiosmtpd", "-n", "-l", "127.0.0.1:" + std::to_string(sink_port)},
               sink_dir / "sink.log");
    REQUIRE(wait_for_port(sink_port, 15s));
    Daemon d(dovecot, submission_port, sink_port);
    d.call("subscribe");
    d.wait_synced();

    // 1. Owner in Bcc under his second address: copied. 2. Through the listener: the owner was
    // added on the way, the client's Sent copy lacks him. 3. A control message without him.
    dovecot.append("Sent", sent_copy("bcc@vendor.example", "Bcc: Robert <ROBERT@vendor.example>\r\n"));
    const std::string script =
        "import smtplib,sys\n"
        "c=smtplib.SMTP('127.0.0.1',int(sys.argv[1]),timeout=30);c.ehlo('t');c.login('mia',sys.argv[2])\n"
        "c.sendmail('mia@vendor.example',['jane@acme.example'],sys.argv[3].encode())\n"
        "c.quit()\n";
    const auto [rc, out] = run({"/usr/bin/python3", "-c", script, std::to_string(submission_port), d.token(),
                                sent_copy("relayed@vendor.example")});
    INFO(out << d.log());
    REQUIRE(rc == 0);
    REQUIRE(d.wait_notification([](const json& n) { return n["kind"] == "owner_added"; }, 10s));
    dovecot.append("Sent", sent_copy("relayed@vendor.example"));
    dovecot.append("Sent", sent_copy("control@vendor.example"));
    REQUIRE(d.wait_notification([](const json& n) {
        return n["kind"] == "owner_not_copied" && n["message_id"] == "control@vendor.example";
    }, 10s));
    CHECK(d.uncopied() == std::vector<std::string>{"control@vendor.example"});

    // A restart finds all three already seen: nothing is said again.
    d.restart();
    d.call("subscribe", {{"after", 1 << 30}});
    d.wait_synced();
    dovecot.append("Sent", sent_copy("control2@vendor.example"));
    REQUIRE(d.wait_notification([](const json& n) {
        return n["kind"] == "owner_not_copied" && n["message_id"] == "control2@vendor.example";
    }, 10s));
    CHECK(d.uncopied() == std::vector<std::string>{"control2@vendor.example"});
    sink.stop();
}
