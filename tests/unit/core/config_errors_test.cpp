// Every broken rules or settings file under tests/data/config gives exactly the errors in its
// .expected file: the text and position an admin would read. Set RAPPORT_UPDATE_GOLDEN=1 to
// rewrite the .expected files after an intended change (then review the diff).
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>

#include "rapport/rules.hpp"
#include "rapport/settings.hpp"
#include "test_process.hpp"

namespace fs = std::filesystem;
using namespace rapport;

namespace {

std::string render(const Diagnostics& diagnostics) {
    std::string out;
    for (const auto& d : diagnostics) out += d.to_string() + "\n";
    return out;
}

std::vector<fs::path> cases(const std::string& kind) {
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(test::source_dir() + "/tests/data/config/" + kind))
        if (e.path().extension() == ".json") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    return files;
}

void check_golden(const fs::path& input, const std::string& actual) {
    fs::path expected_path = input;
    expected_path.replace_extension(".expected");
    if (std::getenv("RAPPORT_UPDATE_GOLDEN")) test::write_file(expected_path.string(), actual);
    INFO("case " << input.filename().string());
    REQUIRE(fs::exists(expected_path));
    CHECK(actual == test::read_file(expected_path.string()));
}

}  // namespace

TEST_CASE("each broken rules file gives its exact errors", "[config]") {
    const auto files = cases("rules");
    REQUIRE(files.size() >= 25);
    for (const auto& file : files) {
        const auto result = parse_rules(test::read_file(file.string()), "rules.json");
        INFO("case " << file.filename().string());
        CHECK(result.rules == nullptr);
        CHECK_FALSE(result.diagnostics.empty());
        check_golden(file, render(result.diagnostics));
    }
}

TEST_CASE("each broken settings file gives its exact errors", "[config]") {
    PathContext ctx{"/home/mia/.config/rapport", "", "", "/home/mia"};
    for (const auto& file : cases("settings")) {
        const auto result = parse_settings(test::read_file(file.string()), "settings.json", ctx);
        INFO("case " << file.filename().string());
        CHECK(result.settings == nullptr);
        CHECK_FALSE(result.diagnostics.empty());
        check_golden(file, render(result.diagnostics));
    }
}

TEST_CASE("the shipped example files are valid", "[config]") {
    const std::string dir = test::source_dir() + "/packaging/examples/";
    auto rules = parse_rules(test::read_file(dir + "rules.json"), "rules.json");
    INFO(render(rules.diagnostics));
    REQUIRE(rules.rules);
    CHECK(rules.rules->accounts.size() == 3);
    PathContext ctx{dir.substr(0, dir.size() - 1), "", "", ""};
    auto settings = parse_settings(test::read_file(dir + "settings.json"), "settings.json", ctx);
    INFO(render(settings.diagnostics));
    REQUIRE(settings.settings);
    CHECK(settings.settings->rules_file == dir + "rules.json");
    CHECK(settings.settings->mailboxes.at(0).imap.password.command ==
          std::vector<std::string>{"pass", "show", "mail/vendor"});
}

TEST_CASE("defaults fill what the files leave out", "[config]") {
    auto rules = parse_rules(R"({"organization": {"name": "V", "domains": ["vendor.example"]},
                                 "people": [{"id": "bob", "name": "Bob", "addresses": ["bob@vendor.example"]}],
                                 "accounts": [{"id": "a", "name": "A", "owner": "bob"}]})",
                             "rules.json");
    REQUIRE(rules.rules);
    const auto& r = rules.rules->rules;
    CHECK(r.summary_drafts.delay == Seconds{300});
    CHECK(r.summary_drafts.catch_up == Seconds{86400});
    CHECK(r.loss.nudges.size() == 3);
    CHECK(r.silence.after == Seconds{45 * 86400});
    CHECK(rules.rules->accounts[0].stage == Stage::active);
    CHECK(rules.rules->people[0].role == "rep");

    PathContext ctx{"/etc/rapport", "/home/u/.state", "/run/user/1000", "/home/u"};
    auto settings = parse_settings(R"({"rules": "/etc/rapport/rules.json"})", "s.json", ctx);
    REQUIRE(settings.settings);
    CHECK(settings.settings->state_dir == "/home/u/.state/rapport");
    CHECK(settings.settings->token_file == "/run/user/1000/rapport/token");
    CHECK(settings.settings->api_port == 7717);

    // Folders left out are found on the server (SPECIAL-USE), so they stay unset here.
    auto mailbox = parse_settings(R"({"rules": "r.json", "mailboxes": [{"id": "w",
        "imap": {"host": "imap.example", "username": "u", "password": "p"}}]})", "s.json", ctx);
    REQUIRE(mailbox.settings);
    const auto& m = mailbox.settings->mailboxes.at(0);
    CHECK_FALSE(m.sent);
    CHECK_FALSE(m.drafts);
    CHECK_FALSE(m.watch);
    auto configured = parse_settings(R"({"rules": "r.json", "mailboxes": [{"id": "w",
        "imap": {"host": "imap.example", "username": "u", "password": "p"},
        "folders": {"sent": "Sent Items", "drafts": "Brouillons", "watch": ["INBOX"]}}]})", "s.json", ctx);
    REQUIRE(configured.settings);
    const auto& c = configured.settings->mailboxes.at(0);
    CHECK(c.sent == std::optional<std::string>("Sent Items"));
    CHECK(c.drafts == std::optional<std::string>("Brouillons"));
    CHECK(c.watch == std::optional<std::vector<std::string>>(std::vector<std::string>{"INBOX"}));
}

TEST_CASE("hostile rules text never crashes and always explains", "[config]") {
    const std::string huge(130u << 20, ' ');
    auto big = parse_rules(huge, "rules.json");
    REQUIRE(big.diagnostics.size() == 1);
    CHECK(big.diagnostics[0].to_string() ==
          "rules.json: the file is too large (136314880 bytes; the limit is 134217728 bytes)");

    std::string deep = std::string(100000, '[') + std::string(100000, ']');
    auto nested = parse_rules(deep, "rules.json");
    REQUIRE(nested.diagnostics.size() == 1);
    CHECK(nested.diagnostics[0].to_string() == "rules.json:1:33: nesting is deeper than 32 levels");

    for (const char* text : {"null", "42", "\"x\"", "true", "{}", "[]", "{\"people\": null}"}) {
        auto r = parse_rules(text, "rules.json");
        CHECK(r.rules == nullptr);
        CHECK_FALSE(r.diagnostics.empty());
    }
}

TEST_CASE("imap.auth and smtp.auth: password by default, xoauth2 and oauthbearer with a token command",
          "[config]") {
    const std::string text = R"({
      "user": {"address": "mia@vendor.example"}, "rules": "rules.json", "state_dir": "state",
      "mailboxes": [
        {"id": "m365", "imap": {"host": "outlook.office365.com", "username": "mia@vendor.example",
                                "auth": "xoauth2", "password_command": ["oama", "access", "mia@vendor.example"]},
         "smtp": {"host": "smtp.office365.com", "port": 587, "security": "starttls",
                  "username": "mia@vendor.example", "auth": "xoauth2",
                  "password_command": ["oama", "access", "mia@vendor.example"]}},
        {"id": "google", "imap": {"host": "imap.gmail.com", "username": "mia@vendor.example",
                                  "auth": "oauthbearer", "password_command": ["pizauth", "show", "gmail"]}},
        {"id": "plain", "imap": {"host": "127.0.0.1", "security": "none", "username": "mia",
                                 "auth": "password", "password": "secret"}},
        {"id": "default", "imap": {"host": "127.0.0.1", "security": "none", "username": "mia", "password": "x"}}
      ]})";
    PathContext ctx{"/home/mia/.config/rapport", "", "", "/home/mia"};
    const auto result = parse_settings(text, "settings.json", ctx);
    INFO(render(result.diagnostics));
    REQUIRE(result.settings);
    const auto& m = result.settings->mailboxes;
    CHECK(m.at(0).imap.auth == Auth::xoauth2);
    CHECK(m.at(0).smtp->auth == Auth::xoauth2);
    CHECK(m.at(0).imap.password.command == std::vector<std::string>{"oama", "access", "mia@vendor.example"});
    CHECK(m.at(1).imap.auth == Auth::oauthbearer);
    CHECK(m.at(2).imap.auth == Auth::password);
    CHECK(m.at(3).imap.auth == Auth::password);
    CHECK(std::string(to_string(Auth::oauthbearer)) == "oauthbearer");
}
