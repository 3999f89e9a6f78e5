// OAuth 2.0 logins (imap.auth xoauth2 / oauthbearer) against a real Dovecot whose oauth2
// passdb checks every token at an introspection server this test runs
// (introspection_server.py): the token comes from password_command, which runs again for every
// connection and counts its runs in a file; the server's log of tokens counts the logins.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "dovecot_fixture.hpp"
#include "rapportd_fixture.hpp"

using namespace rapport::test;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

const char* kRules = R"({
  "organization": {"name": "Vendor Inc", "domains": ["vendor.example"]},
  "people": [{"id": "mia", "name": "Mia Marketing", "addresses": ["mia@vendor.example"]}],
  "accounts": [{"id": "acme", "name": "Acme Corp", "domains": ["acme.example"], "owner": "mia",
                "contacts": [{"address": "jane@acme.example", "name": "Jane Doe"}]}]
})";

std::vector<std::string> lines(const std::string& path) {
    std::vector<std::string> out;
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);)
        if (!line.empty()) out.push_back(line);
    return out;
}

// The introspection endpoint, and the token command's files: DIR/valid (good tokens), DIR/requests
// (every token Dovecot asked about), DIR/runs (one line per run of the token command, which
// prints tok-N for its Nth run).
class TokenWorld {
public:
    TokenWorld() : port_(free_port()) {
        valid({});
        write_file(dir_ / "token.sh",
                   "#!/bin/sh\necho run >> \"$1/runs\"\necho \"tok-$(wc -l < \"$1/runs\" | tr -d ' ')\"\n");
        chmod((dir_ / "token.sh").c_str(), 0755);
        server_ = std::make_unique<Child>(
            std::vector<std::string>{"/usr/bin/python3", source_dir() + "/tests/integration/oauth/introspection_server.py",
                                     std::to_string(port_), dir_.path().string()},
            dir_ / "introspection.log");
        if (!wait_for_port(port_, 15s)) throw std::runtime_error("introspection server did not start:\n" + server_->log());
    }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/introspect"; }
    void valid(const std::vector<std::string>& tokens) {
        std::string text;
        for (const auto& t : tokens) text += t + "\n";
        write_file(dir_ / "valid.tmp", text);
        std::filesystem::rename(dir_ / "valid.tmp", dir_ / "valid");
    }
    std::vector<std::string> requests() const { return lines(dir_ / "requests"); }
    std::size_t runs() const { return lines(dir_ / "runs").size(); }
    std::vector<std::string> command() const { return {dir_ / "token.sh", dir_.path().string()}; }
    std::string log() { return server_->log(); }

private:
    TempDir dir_;
    int port_;
    std::unique_ptr<Child> server_;
};

json settings(DovecotFixture& dovecot, const std::string& auth, const std::vector<std::string>& command) {
    return {{"user", {{"name", "Mia Marketing"}, {"address", "mia@vendor.example"}}},
            {"mailboxes", {{{"id", "work"}, {"idle", true}, {"poll_interval", "PT30S"},
                            {"imap", {{"host", "127.0.0.1"}, {"port", dovecot.port()}, {"security", "none"},
                                      {"username", dovecot.user()}, {"auth", auth}, {"password_command", command}}},
                            // One folder: one connection, so every login is one the test expects.
                            {"folders", {{"watch", {"INBOX"}}, {"sent", "Sent"}, {"drafts", "Drafts"}}}}}}};
}

DovecotFixture::Options oauth_dovecot(const TokenWorld& world) {
    DovecotFixture::Options o;
    o.oauth_introspection_url = world.url();
    return o;
}

bool synced(const json& st) {
    const auto& m = st["mailboxes"][0];
    return m["state"] == "idle" && m["last_error"].is_null();
}

}  // namespace

TEST_CASE("rapportd logs in with XOAUTH2 and with OAUTHBEARER, the token from password_command", "[oauth]") {
    const std::string auth = GENERATE(std::string("xoauth2"), std::string("oauthbearer"));
    INFO("auth " << auth);
    TokenWorld world;
    world.valid({"tok-1"});
    DovecotFixture dovecot(oauth_dovecot(world));
    RapportdFixture daemon(kRules, settings(dovecot, auth, world.command()));
    const auto st = daemon.wait_status(synced, 30s);
    INFO(st.dump() << "\n" << daemon.log() << "\n" << dovecot.log());
    REQUIRE(synced(st));
    CHECK(world.requests() == std::vector<std::string>{"tok-1"});
    CHECK(world.runs() == 1);
    // Mail is seen over that session, as with a password.
    daemon.call("subscribe");
    dovecot.append("INBOX", "From: Jane Doe <jane@acme.example>\r\nTo: mia@vendor.example\r\nSubject: Hi\r\n"
                            "Message-ID: <oauth-1@acme.example>\r\nDate: Tue, 24 Nov 2026 10:00:00 +0000\r\n\r\nHello.\r\n");
    auto n = daemon.wait_notification([](const json& x) { return x["kind"] == "customer_mail"; }, 20s);
    CHECK(n.has_value());
}

TEST_CASE("an expired token is replaced on reconnect: the command runs again", "[oauth]") {
    TokenWorld world;
    world.valid({"tok-1"});
    DovecotFixture dovecot(oauth_dovecot(world));
    RapportdFixture daemon(kRules, settings(dovecot, "xoauth2", world.command()));
    REQUIRE(synced(daemon.wait_status(synced, 30s)));
    REQUIRE(world.runs() == 1);
    // The hour is up: the first token is revoked, the next one the helper prints is good; the
    // server ends the session (as Microsoft and Google do when a token expires).
    world.valid({"tok-2"});
    dovecot.doveadm({"kick", dovecot.user()});
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (world.runs() < 2 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(100ms);
    const auto st = daemon.wait_status([&](const json& s) { return synced(s) && world.requests().size() >= 2; }, 30s);
    INFO(st.dump() << "\n" << daemon.log() << "\n" << dovecot.log());
    CHECK(synced(st));
    CHECK(world.runs() == 2);
    CHECK(world.requests() == std::vector<std::string>{"tok-1", "tok-2"});
}

TEST_CASE("a refused token: a clear status error and a long backoff, not a login storm", "[oauth]") {
    TokenWorld world;  // no token is good
    DovecotFixture dovecot(oauth_dovecot(world));
    RapportdFixture daemon(kRules, settings(dovecot, "oauthbearer", world.command()));
    auto refused = [](const json& s) {
        return s["mailboxes"][0]["last_error"].is_string() &&
               s["mailboxes"][0]["last_error"].get<std::string>().find("refused the access token") != std::string::npos;
    };
    auto st = daemon.wait_status(refused, 30s);
    INFO(st.dump() << "\n" << daemon.log() << "\n" << dovecot.log());
    REQUIRE(refused(st));
    const std::string error = st["mailboxes"][0]["last_error"];
    CHECK(st["mailboxes"][0]["state"] == "error");
    CHECK(error.find("AUTHENTICATE OAUTHBEARER failed") != std::string::npos);
    CHECK(error.find("{\"status\":\"invalid_token\"}") != std::string::npos);  // what Dovecot said
    CHECK(error.find("check that the password_command prints a current access token for \"mia\"") != std::string::npos);
    CHECK(error.find("next attempt in 1") != std::string::npos);  // 12-18 min
    // Watch for a while: a storm would log in again within a few seconds (the usual backoff
    // starts at 1 s).
    std::this_thread::sleep_for(8s);
    CHECK(world.requests().size() == 1);
    CHECK(world.runs() == 1);
    CHECK(daemon.call("status")["mailboxes"][0]["state"] == "error");
}

TEST_CASE("a token command that prints nothing: a clear status error, no login tried", "[oauth][bad-input]") {
    TokenWorld world;
    DovecotFixture dovecot(oauth_dovecot(world));
    RapportdFixture daemon(kRules, settings(dovecot, "xoauth2", {"/bin/sh", "-c", "printf '\\n'"}));
    auto failed = [](const json& s) { return s["mailboxes"][0]["last_error"].is_string(); };
    auto st = daemon.wait_status(failed, 20s);
    INFO(st.dump() << "\n" << daemon.log());
    REQUIRE(failed(st));
    const std::string error = st["mailboxes"][0]["last_error"];
    CHECK(error.find("password_command /bin/sh printed no access token (its first line is empty); retrying in") !=
          std::string::npos);
    CHECK(world.requests().empty());
}
