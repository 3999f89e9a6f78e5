// rapportd's mail watcher against a real Dovecot, observed the way a user does: through the
// API's notifications and status, and Dovecot's own view of the flags afterwards.
#include <catch2/catch.hpp>

#include <functional>
#include <map>
#include <optional>

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
             {"id": "mia", "name": "Mia Marketing", "addresses": ["mia@vendor.example"]}],
  "accounts": [{"id": "acme", "name": "Acme Corp", "domains": ["acme.example"], "owner": "bob",
                "contacts": [{"address": "jane@acme.example", "name": "Jane Doe"}]}]
})";

std::string message(const std::string& id, const std::string& from, const std::string& to,
                    const std::string& subject) {
    return "From: " + from + "\r\nTo: " + to + "\r\nDate: Tue, 24 Nov 2026 10:00:00 +0000\r\nSubject: " + subject +
           "\r\nMessage-ID: <" + id + ">\r\nContent-Type: text/plain\r\n\r\nHello.\r\n";
}

// The password comes from password_command, as the docs recommend (run without a shell).
json mailbox_settings(DovecotFixture& dovecot, bool idle, const std::string& poll) {
    return {{"user", {{"name", "Mia Marketing"}, {"address", "mia@vendor.example"}}},
            {"mailboxes", {{{"id", "work"}, {"idle", idle}, {"poll_interval", poll},
                            {"imap", {{"host", "127.0.0.1"}, {"port", dovecot.port()}, {"security", "none"},
                                      {"username", dovecot.user()},
                                      {"password_command", {"printf", "%s\\n", dovecot.password()}}}},
                            {"folders", {{"watch", {"INBOX", "Sent"}}, {"sent", "Sent"}, {"drafts", "Drafts"}}}}}}};
}

// rapportd watching the fixture's mailbox, plus what these tests ask of it.
class Daemon : public RapportdFixture {
public:
    explicit Daemon(DovecotFixture& dovecot, bool idle = true, const std::string& poll = "PT1S")
        : RapportdFixture(kRules, mailbox_settings(dovecot, idle, poll)) {}

    // Waits until status says every folder of the mailbox is caught up (idle or polling).
    json wait_synced(std::chrono::milliseconds timeout = 60s) {
        auto s = wait_status([](const json& st) {
            const auto& m = st["mailboxes"][0];
            return (m["state"] == "idle" || m["state"] == "polling") && !m.contains("scan");
        }, timeout);
        const auto& m = s["mailboxes"][0];
        if (!((m["state"] == "idle" || m["state"] == "polling") && !m.contains("scan")))
            FAIL("mailbox never caught up: " << s.dump() << "\n" << log());
        return s;
    }

    std::vector<json> customer_mail() const {
        std::vector<json> out;
        for (const auto& n : notifications_)
            if (n["kind"] == "customer_mail") out.push_back(n);
        return out;
    }
};

bool is_mail(const json& n, const std::string& message_id) {
    return n["kind"] == "customer_mail" && n["message_id"] == message_id;
}

}  // namespace

TEST_CASE("first scan of a few thousand messages: all seen, none announced, none marked read", "[mail]") {
    DovecotFixture::Options o;
    o.seed = {{"INBOX", 3000}};
    DovecotFixture dovecot(o);
    const auto flags_before = dovecot.flags("INBOX");
    REQUIRE(flags_before.size() == 3000);

    Daemon d(dovecot);
    d.call("subscribe");
    auto status = d.wait_synced();
    CHECK(status["mailboxes"][0]["messages_seen"] == 3000);
    CHECK(status["mailboxes"][0]["last_error"].is_null());
    // History is recorded (last contact) but not announced.
    auto lookup = d.call("lookup", {{"addresses", {"jane@acme.example"}}});
    CHECK(lookup["results"][0]["last_contact"] == "2024-01-01");
    CHECK(d.customer_mail().empty());
    CHECK(dovecot.flags("INBOX") == flags_before);
}

TEST_CASE("new mail is classified within 2 seconds with IDLE, and the Sent audit runs", "[mail]") {
    DovecotFixture dovecot;
    Daemon d(dovecot);
    d.call("subscribe");
    d.wait_synced();

    const auto start = std::chrono::steady_clock::now();
    dovecot.append("INBOX", message("idle-1@acme.example", "Jane Doe <jane@acme.example>", "mia@vendor.example", "Renewal"));
    auto n = d.wait_notification([](const json& x) { return is_mail(x, "idle-1@acme.example"); }, 2s);
    INFO(d.log());
    REQUIRE(n);
    CHECK(std::chrono::steady_clock::now() - start < 2s);
    CHECK((*n)["account"] == "acme");
    CHECK((*n)["direction"] == "in");
    CHECK((*n)["folder"] == "INBOX");
    CHECK((*n)["text"] == "Mail from Acme Corp: \"Renewal\" from Jane Doe <jane@acme.example>.");

    dovecot.append("Sent", message("sent-1@vendor.example", "mia@vendor.example", "jane@acme.example", "Case study?"));
    auto audit = d.wait_notification([](const json& x) { return x["kind"] == "owner_not_copied"; }, 5s);
    REQUIRE(audit);
    CHECK((*audit)["owner"] == "bob@vendor.example");
    CHECK((*audit)["message_id"] == "sent-1@vendor.example");
    CHECK(dovecot.flags("INBOX").begin()->second.find("\\Seen") == std::string::npos);
}

TEST_CASE("without IDLE, new mail is seen within one poll interval", "[mail]") {
    DovecotFixture dovecot;
    Daemon d(dovecot, /*idle=*/false, "PT1S");
    d.call("subscribe");
    auto status = d.wait_synced();
    CHECK(status["mailboxes"][0]["state"] == "polling");
    const auto start = std::chrono::steady_clock::now();
    dovecot.append("INBOX", message("poll-1@acme.example", "jane@acme.example", "mia@vendor.example", "Polled"));
    auto n = d.wait_notification([](const json& x) { return is_mail(x, "poll-1@acme.example"); }, 3s);
    INFO(d.log());
    REQUIRE(n);
    CHECK(std::chrono::steady_clock::now() - start < 2500ms);  // 1 s interval, ±20% jitter, fetch
}

TEST_CASE("a Dovecot outage while mail arrives: nothing missed, nothing told twice", "[mail]") {
    DovecotFixture dovecot;
    Daemon d(dovecot);
    d.call("subscribe");
    d.wait_synced();
    dovecot.append("INBOX", message("before@acme.example", "jane@acme.example", "mia@vendor.example", "Before"));
    REQUIRE(d.wait_notification([](const json& x) { return is_mail(x, "before@acme.example"); }, 5s));

    // Stopped, not killed: a SIGKILLed Dovecot leaves dotlocks behind that block the next
    // session's sync until they go stale (minutes), which tests Dovecot, not us.
    dovecot.stop();
    auto err = d.wait_notification([](const json& x) { return x["kind"] == "sync_error" && x["recovered"] == false; }, 10s);
    REQUIRE(err);
    dovecot.deliver_offline("INBOX", message("during@acme.example", "jane@acme.example", "mia@vendor.example", "During"));
    dovecot.restart();
    dovecot.append("INBOX", message("after@acme.example", "jane@acme.example", "mia@vendor.example", "After"));
    REQUIRE(d.wait_notification([](const json& x) { return x["kind"] == "sync_error" && x["recovered"] == true; }, 20s));
    if (!d.wait_notification([](const json& x) { return is_mail(x, "during@acme.example"); }, 15s)) FAIL(d.log());
    if (!d.wait_notification([](const json& x) { return is_mail(x, "after@acme.example"); }, 10s)) FAIL(d.log());

    // A daemon restart re-reads nothing it already told.
    d.restart();
    d.call("subscribe", {{"after", 0}});
    d.wait_synced();
    std::this_thread::sleep_for(500ms);
    d.call("status");
    std::map<std::string, int> seen;
    for (const auto& n : d.customer_mail()) ++seen[n["message_id"].get<std::string>()];
    // Each message was announced exactly once in the daemon's history (the replay holds them
    // all once; the first connection's copies were dropped with it).
    CHECK(seen == std::map<std::string, int>{{"before@acme.example", 1}, {"during@acme.example", 1}, {"after@acme.example", 1}});
}

TEST_CASE("a folder recreated with a new UIDVALIDITY repeats no notification", "[mail]") {
    DovecotFixture dovecot;
    Daemon d(dovecot);
    d.call("subscribe");
    d.wait_synced();
    // Sent, because Dovecot will not delete INBOX.
    const auto m1 = message("uv-1@acme.example", "mia@vendor.example", "jane@acme.example", "One");
    dovecot.append("Sent", m1);
    REQUIRE(d.wait_notification([](const json& x) { return is_mail(x, "uv-1@acme.example"); }, 5s));

    dovecot.recreate_folder("Sent");
    dovecot.append("Sent", m1);  // the same message again, under a new UIDVALIDITY
    dovecot.append("Sent", message("uv-2@acme.example", "mia@vendor.example", "jane@acme.example", "Two"));
    if (!d.wait_notification([](const json& x) { return is_mail(x, "uv-2@acme.example"); }, 15s)) FAIL(d.log());
    std::this_thread::sleep_for(500ms);
    d.call("status");
    int m1_count = 0;
    for (const auto& n : d.customer_mail()) m1_count += n["message_id"] == "uv-1@acme.example";
    CHECK(m1_count == 1);
}

TEST_CASE("hostile messages are classified as far as possible and never stall the folder", "[mail][bad-input]") {
    DovecotFixture dovecot;
    Daemon d(dovecot);
    d.call("subscribe");
    d.wait_synced();

    std::string many = "From: jane@acme.example\r\nTo: ";
    for (int i = 0; i < 10000; ++i) many += (i ? ", " : "") + std::string("r") + std::to_string(i) + "@list.example";
    many += "\r\nSubject: ten thousand recipients\r\nMessage-ID: <many@acme.example>\r\n\r\nhi\r\n";
    dovecot.append("INBOX", many);

    std::string huge = "From: jane@acme.example\r\nTo: mia@vendor.example\r\nSubject: huge\r\nMessage-ID: <huge@acme.example>\r\nX-Filler: ";
    huge += std::string(1 << 20, 'x') + "\r\nReferences: <a@b>\r\n\r\nbody\r\n";
    dovecot.append("INBOX", huge);

    dovecot.append("INBOX", std::string("From: =?x-unknown?B?!!!?= <jane@acme.example>\r\nTo: mia@vendor.example\r\n"
                                        "Subject: =?utf-8?q?broken=ZZ?= \xff\xfe\r\nDate: yesterday-ish\r\n"
                                        "Message-ID: <broken@acme.example>\r\n\r\nbody\r\n"));
    dovecot.append("INBOX", "To: mia@vendor.example\r\nSubject: no sender, no id\r\n\r\nbody\r\n");
    dovecot.append("INBOX", message("last@acme.example", "jane@acme.example", "mia@vendor.example", "After the storm"));

    for (const char* id : {"many@acme.example", "huge@acme.example", "broken@acme.example", "last@acme.example"}) {
        INFO(id << "\n" << d.log());
        CHECK(d.wait_notification([&](const json& x) { return is_mail(x, id); }, 10s));
    }
    auto status = d.wait_synced();
    CHECK(status["mailboxes"][0]["messages_seen"] == 5);
    CHECK(status["mailboxes"][0]["last_error"].is_null());
}

TEST_CASE("a server that answers garbage is dropped, retried, and its error shown in status", "[mail][bad-input]") {
    // A fake IMAP server on loopback: greets, then answers every line with garbage.
    TempDir dir;
    const int port = free_port();
    write_file(dir / "garbage.py",
               "import socket, sys\n"
               "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
               "s.bind(('127.0.0.1', int(sys.argv[1]))); s.listen(8)\n"
               "while True:\n"
               "    c, _ = s.accept()\n"
               "    c.sendall(b'* OK fake\\r\\n')\n"
               "    try:\n"
               "        c.recv(4096); c.sendall(b'\\x00\\x01garbage ((( {99999999999}\\r\\n'); c.recv(4096)\n"
               "    except OSError: pass\n"
               "    c.close()\n");
    Child server({"/usr/bin/python3", dir / "garbage.py", std::to_string(port)}, dir / "garbage.log");
    REQUIRE(wait_for_port(port));

    DovecotFixture unused;  // only for the settings' shape; the daemon talks to the fake server
    TempDir work;
    const int api = free_port();
    write_file(work / "rules.json", kRules);
    json settings = {{"user", {{"name", "Mia"}, {"address", "mia@vendor.example"}}}, {"rules", "rules.json"},
                     {"state_dir", "state"}, {"api", {{"port", api}, {"token_file", "state/token"}}},
                     {"mailboxes", {{{"id", "work"}, {"imap", {{"host", "127.0.0.1"}, {"port", port}, {"security", "none"},
                                                              {"username", "mia"}, {"password", "x"}}}}}}};
    write_file(work / "settings.json", settings.dump());
    Child daemon({program("rapportd"), "--config", work / "settings.json"}, work / "rapportd.log");
    REQUIRE(daemon.wait_for_log("rapportd running"));
    REQUIRE(daemon.wait_for_log("retrying in", 10s));
    rapport::api::WsClient client;
    client.connect(static_cast<std::uint16_t>(api), 5s);
    auto token = read_file(work / "state/token");
    client.send_text(json{{"jsonrpc", "2.0"}, {"id", 1}, {"method", "hello"},
                          {"params", {{"token", token.substr(0, token.find('\n'))}, {"client", "t"}, {"version", "1"}}}}.dump(), 5s);
    client.receive_text(5s);
    client.send_text(json{{"jsonrpc", "2.0"}, {"id", 2}, {"method", "status"}}.dump(), 5s);
    auto status = json::parse(client.receive_text(5s))["result"];
    INFO(status.dump() << "\n" << daemon.log());
    const auto& m = status["mailboxes"][0];
    CHECK(m["state"] == "error");
    REQUIRE(m["last_error"].is_string());
    const std::string error = m["last_error"].get<std::string>();
    CHECK((error.find("protocol") != std::string::npos || error.find("too large") != std::string::npos));
    CHECK(daemon.running());
}
