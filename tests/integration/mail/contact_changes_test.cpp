// Reading what customers write, against a real Dovecot: the user sends to a contact (Sent), a
// delivery report for that message arrives -> exactly one contact_changed (bounce); a
// departure auto-reply from another contact -> one contact_changed (left); a customer reply
// "decided to go with" -> one loss_signal. lookup and compose.check show the states. After a
// restart nothing is repeated, and no message's flags changed (checked with a raw IMAP FETCH
// FLAGS from Python's imaplib, an independent client).
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
  "people": [{"id": "bob", "name": "Bob Rep", "addresses": ["bob@vendor.example"]},
             {"id": "mia", "name": "Mia Marketing", "addresses": ["mia@vendor.example"], "role": "marketing"}],
  "accounts": [{"id": "acme", "name": "Acme Corp", "domains": ["acme.example"], "owner": "bob",
                "contacts": [{"address": "jane@acme.example", "name": "Jane Doe"},
                             {"address": "raj@acme.example", "name": "Raj Patel"},
                             {"address": "li@acme.example", "name": "Li Wu"}]}],
  "rules": {"loss": {"phrases": ["decided to go with"]}, "contact_changes": {"enabled": true}}
})";

std::string crlf(const std::string& lf) {
    std::string out;
    for (char c : lf) {
        if (c == '\n') out += '\r';
        out += c;
    }
    return out;
}

std::string corpus(const std::string& name) {
    return crlf(read_file(std::string(RAPPORT_SOURCE_DIR) + "/tests/data/mail/" + name));
}

// Every message's UID and FLAGS in a folder, as the server reports them to an independent
// client (EXAMINE: this check must not change anything either).
std::string raw_flags(DovecotFixture& dovecot, const std::string& folder) {
    const std::string script =
        "import imaplib,sys\n"
        "c=imaplib.IMAP4('127.0.0.1',int(sys.argv[1]));c.login(sys.argv[2],sys.argv[3])\n"
        "c.select(sys.argv[4],readonly=True)\n"
        "t,d=c.uid('FETCH','1:*','(FLAGS)')\n"
        "print('\\n'.join(sorted(x.decode() for x in d if x)))\n"
        "c.logout()\n";
    const auto [rc, out] = run({"/usr/bin/python3", "-c", script, std::to_string(dovecot.port()), dovecot.user(),
                                dovecot.password(), folder});
    REQUIRE(rc == 0);
    return out;
}

class Daemon : public RapportdFixture {
public:
    explicit Daemon(DovecotFixture& dovecot)
        : RapportdFixture(kRules,
                          {{"user", {{"name", "Mia Marketing"}, {"address", "mia@vendor.example"}}},
                           {"mailboxes",
                            {{{"id", "work"},
                              {"imap", {{"host", "127.0.0.1"}, {"port", dovecot.port()}, {"security", "none"},
                                        {"username", dovecot.user()}, {"password", dovecot.password()}}},
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

    std::vector<json> of_kind(const std::string& kind) const {
        std::vector<json> out;
        for (const auto& n : notifications_)
            if (n["kind"] == kind) out.push_back(n);
        return out;
    }
};

std::string sent(const std::string& to, const std::string& id) {
    return "From: Mia Marketing <mia@vendor.example>\r\nTo: " + to +
           "\r\nDate: Tue, 01 Dec 2026 09:12:03 +0100\r\nSubject: Renewal quote for 2027\r\nMessage-ID: <" + id +
           ">\r\nContent-Type: text/plain\r\n\r\nHello, the quote.\r\n";
}

// The user sends q-1001 to `to` (seen in Sent), then the corpus's Postfix report returns it
// with Jane's address failed: the contact_changed it raises, if any.
std::optional<json> sent_then_bounced(Daemon& d, DovecotFixture& dovecot, const std::string& to) {
    dovecot.append("Sent", sent(to, "q-1001@vendor.example"));
    REQUIRE(d.wait_notification([](const json& n) {
        return n["kind"] == "customer_mail" && n["message_id"] == "q-1001@vendor.example";
    }, 20s));
    dovecot.append("INBOX", corpus("postfix-user-unknown.eml"));
    return d.wait_notification([](const json& n) { return n["kind"] == "contact_changed"; }, 30s);
}

const char* kDeparture =
    "From: Raj Patel <raj@acme.example>\r\nTo: Mia Marketing <mia@vendor.example>\r\n"
    "Subject: Automatic reply: Renewal quote for 2027\r\nDate: Tue, 01 Dec 2026 09:20:00 +0100\r\n"
    "Message-ID: <auto-raj@acme.example>\r\nAuto-Submitted: auto-replied\r\nX-Auto-Response-Suppress: All\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n\r\n"
    "Raj Patel is no longer with Acme Corp. Please contact li@acme.example.\r\n";

const char* kPlainReply =
    "From: Li Wu <li@acme.example>\r\nTo: Mia Marketing <mia@vendor.example>\r\nSubject: Re: Renewal\r\n"
    "Date: Tue, 01 Dec 2026 10:00:00 +0100\r\nMessage-ID: <plain-li@acme.example>\r\n"
    "Content-Type: text/plain\r\n\r\nThanks, talk tomorrow.\r\n";

}  // namespace

TEST_CASE("bounces, departures and loss phrases are told once, survive a restart, and touch no flag",
          "[mail][contact_changes]") {
    DovecotFixture dovecot;
    Daemon d(dovecot);
    d.call("subscribe");
    d.wait_synced();

    // The user wrote to Jane.
    auto bounce = sent_then_bounced(d, dovecot, "Jane Doe <jane@acme.example>");
    INFO(d.log());
    REQUIRE(bounce);
    CHECK((*bounce)["contact"] == "jane@acme.example");
    CHECK((*bounce)["reason"] == "bounce");
    CHECK((*bounce)["account"] == "acme");
    CHECK((*bounce)["message_id"] == "dsn-postfix-user-unknown@mx.vendor.example");

    dovecot.append("INBOX", kDeparture);
    REQUIRE(d.wait_notification([](const json& n) { return n["kind"] == "contact_changed" && n["reason"] == "left"; }, 30s));

    dovecot.append("INBOX", corpus("customer-decided-to-go-with.eml"));
    auto loss = d.wait_notification([](const json& n) { return n["kind"] == "loss_signal"; }, 30s);
    REQUIRE(loss);
    CHECK((*loss)["phrase"] == "decided to go with");
    CHECK((*loss)["account"] == "acme");

    // A second report for Jane changes nothing: she is bounced already.
    std::string again = corpus("gmail-address-not-found.eml");
    dovecot.append("INBOX", again);
    dovecot.append("INBOX", kPlainReply);
    REQUIRE(d.wait_notification([](const json& n) {
        return n["kind"] == "customer_mail" && n["message_id"] == "plain-li@acme.example";
    }, 30s));
    d.wait_synced();
    CHECK(d.of_kind("contact_changed").size() == 2);
    CHECK(d.of_kind("loss_signal").size() == 1);

    // lookup and compose.check show the states.
    const json looked = d.call("lookup", {{"addresses", {"jane@acme.example", "raj@acme.example", "li@acme.example"}}});
    CHECK(looked["results"][0]["contact"]["state"] == "bounced");
    CHECK(looked["results"][1]["contact"]["state"] == "left");
    CHECK(looked["results"][2]["contact"]["state"] == "active");
    const json checked = d.call("compose.check", {{"from", "mia@vendor.example"}, {"to", {"raj@acme.example"}}});
    bool told_left = false;
    for (const auto& n : checked["notices"])
        if (n["kind"] == "left") told_left = n["text"].get<std::string>().find("li@acme.example") != std::string::npos;
    CHECK(told_left);

    const std::string inbox_flags = raw_flags(dovecot, "INBOX");
    const std::string sent_flags = raw_flags(dovecot, "Sent");
    CHECK(inbox_flags.find("\\Seen") == std::string::npos);

    // A restart: the same messages, nothing told again.
    d.restart();
    d.call("subscribe", {{"after", 1 << 30}});
    d.wait_synced();
    dovecot.append("INBOX", kPlainReply);  // same Message-ID: a marker that the folder was read again
    const std::string marker =
        "From: Li Wu <li@acme.example>\r\nTo: mia@vendor.example\r\nSubject: marker\r\nMessage-ID: <marker@acme.example>\r\n"
        "Date: Tue, 01 Dec 2026 11:00:00 +0100\r\n\r\nok\r\n";
    dovecot.append("INBOX", marker);
    REQUIRE(d.wait_notification([](const json& n) {
        return n["kind"] == "customer_mail" && n["message_id"] == "marker@acme.example";
    }, 30s));
    d.wait_synced();
    CHECK(d.of_kind("contact_changed").empty());
    CHECK(d.of_kind("loss_signal").empty());
    const std::string after = raw_flags(dovecot, "INBOX");
    CHECK(after.substr(0, inbox_flags.size()) == inbox_flags);
    CHECK(after.find("\\Seen") == std::string::npos);
    CHECK(raw_flags(dovecot, "Sent") == sent_flags);
}

TEST_CASE("a bounce counts only for mail the user sent: the returned message in Sent, or mail to the contact",
          "[mail][contact_changes]") {
    DovecotFixture dovecot;
    Daemon d(dovecot);
    d.call("subscribe");
    d.wait_synced();

    // A report about q-1015, which the user never sent, for Jane, whom the user never wrote
    // to: read (the log says so), and nobody is marked.
    dovecot.append("INBOX", corpus("gmail-address-not-found.eml"));
    REQUIRE(d.wait_for_log("work/INBOX: UID 1: ", 30s));
    d.wait_synced();
    CHECK(d.of_kind("contact_changed").empty());

    // q-1001 went to the account's sales address, not to Jane; its report names Jane. The
    // store keeps only an account's newest messages, so what says the user sent it is its
    // Message-ID in the Sent folder.
    auto bounce = sent_then_bounced(d, dovecot, "Sales <sales@acme.example>");
    INFO(d.log());
    REQUIRE(bounce);
    CHECK((*bounce)["contact"] == "jane@acme.example");
    CHECK((*bounce)["reason"] == "bounce");
}
