// rapportd as a user runs it: --version, --check-config on good and bad files, and a running
// daemon that survives a broken reload and picks up the next good one.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include "test_process.hpp"

using namespace rapport::test;

namespace {

const char* kRules = R"({
  "organization": {"name": "Vendor Inc", "domains": ["vendor.example"]},
  "people": [{"id": "bob", "name": "Bob Rep", "addresses": ["bob@vendor.example"]}],
  "accounts": [{"id": "acme", "name": "Acme Corp", "domains": ["acme.example"], "owner": "bob"}]
})";

const char* kRulesTwoAccounts = R"({
  "organization": {"name": "Vendor Inc", "domains": ["vendor.example"]},
  "people": [{"id": "bob", "name": "Bob Rep", "addresses": ["bob@vendor.example"]}],
  "accounts": [{"id": "acme", "name": "Acme Corp", "domains": ["acme.example"], "owner": "bob"},
               {"id": "globex", "name": "Globex", "domains": ["globex.example"], "owner": "bob"}]
})";

std::string test_rules_with_errors() {
    return R"({
  "organization": {"name": "Vendor Inc", "domains": ["vendor.example"]},
  "people": [{"id": "bob", "name": "Bob Rep", "addresses": ["bob@vendor.example"]}],
  "accounts": [{"id": "acme", "name": "Acme Corp", "owner": "carl", "stage": "closed"}]
})";
}

std::string settings_json(int port) {
    return R"({"user": {"name": "Bob", "address": "bob@vendor.example"}, "rules": "rules.json",
              "state_dir": "state", "api": {"port": )" + std::to_string(port) +
           R"(, "token_file": "state/token"}})";
}

}  // namespace

TEST_CASE("rapportd --version prints the version", "[cli]") {
    auto [status, out] = run({program("rapportd"), "--version"});
    CHECK(status == 0);
    CHECK(out.rfind("rapportd 0.", 0) == 0);
}

TEST_CASE("--check-config accepts the shipped examples and lists the directory", "[cli]") {
    auto [status, out] = run({program("rapportd"), "--check-config",
                              source_dir() + "/packaging/examples/settings.json", "--print-directory"});
    INFO(out);
    CHECK(status == 0);
    CHECK(out.find("OK (3 people, 3 accounts, 4 contacts)") != std::string::npos);
    CHECK(out.find("contact jane@acme.example (Jane Doe, champion)") != std::string::npos);
}

TEST_CASE("--check-config reports every error with its path and exits 1", "[cli]") {
    TempDir dir;
    write_file(dir / "settings.json", settings_json(7717));
    write_file(dir / "rules.json", test_rules_with_errors());
    auto [status, out] = run({program("rapportd"), "--check-config", dir / "settings.json"});
    INFO(out);
    CHECK(status == 1);
    CHECK(out.find(dir / "rules.json" + ": $.accounts[0].owner: \"carl\" names no person in $.people") != std::string::npos);
    CHECK(out.find(dir / "rules.json" + ": $.accounts[0].stage: \"closed\" is not a stage") != std::string::npos);
    CHECK(out.find("2 errors; nothing was changed") != std::string::npos);
}

TEST_CASE("unreadable, missing, huge and binary files give a clear error, never a crash", "[cli]") {
    TempDir dir;
    write_file(dir / "settings.json", settings_json(7717));
    SECTION("missing rules file") {
        auto [status, out] = run({program("rapportd"), "--check-config", dir / "settings.json"});
        CHECK(status == 1);
        CHECK(out.find("cannot read " + dir / "rules.json" + ": No such file or directory") != std::string::npos);
    }
    SECTION("missing settings file") {
        auto [status, out] = run({program("rapportd"), "--check-config", dir / "nope.json"});
        CHECK(status == 1);
        CHECK(out.find("cannot read " + dir / "nope.json" + ": No such file or directory") != std::string::npos);
    }
    SECTION("a directory instead of a file") {
        std::filesystem::create_directories(dir / "rules.json");
        auto [status, out] = run({program("rapportd"), "--check-config", dir / "settings.json"});
        CHECK(status == 1);
        CHECK(out.find("it is a directory, not a file") != std::string::npos);
    }
    SECTION("a 130 MiB rules file") {
        {
            std::ofstream big(dir / "rules.json");
            std::string chunk(1 << 20, ' ');
            for (int i = 0; i < 130; ++i) big << chunk;
        }
        auto [status, out] = run({program("rapportd"), "--check-config", dir / "settings.json"});
        CHECK(status == 1);
        CHECK(out.find("the file is too large (136314880 bytes; the limit is 134217728 bytes)") != std::string::npos);
    }
    SECTION("random binary") {
        std::string junk;
        for (int i = 0; i < 4096; ++i) junk += static_cast<char>((i * 7919) % 256);
        write_file(dir / "rules.json", junk);
        auto [status, out] = run({program("rapportd"), "--check-config", dir / "settings.json"});
        CHECK(status == 1);
        CHECK(out.find(dir / "rules.json" + ":1:1: the file contains a NUL byte") != std::string::npos);
    }
    SECTION("a rules file we may not read") {
        if (geteuid() == 0) {
            SUCCEED("root reads every file; permission errors cannot be provoked");
        } else {
            write_file(dir / "rules.json", kRules);
            chmod((dir / "rules.json").c_str(), 0);
            auto [status, out] = run({program("rapportd"), "--check-config", dir / "settings.json"});
            CHECK(status == 1);
            CHECK(out.find("Permission denied") != std::string::npos);
        }
    }
}

TEST_CASE("SIGHUP with broken rules keeps the last good rules, a good file then replaces them", "[cli][reload]") {
    TempDir dir;
    write_file(dir / "settings.json", settings_json(free_port()));
    write_file(dir / "rules.json", kRules);
    Child daemon({program("rapportd"), "--config", dir / "settings.json"}, dir / "rapportd.log");
    REQUIRE(daemon.wait_for_log("rapportd running"));
    CHECK(daemon.log().find("rules loaded: 1 people, 1 accounts, 0 contacts") != std::string::npos);
    CHECK(std::filesystem::exists(dir / "state/state.sqlite"));

    write_file(dir / "rules.json", "{ \"organization\": ");
    daemon.signal(SIGHUP);
    REQUIRE(daemon.wait_for_log("reload refused; keeping the rules loaded at"));
    CHECK(daemon.log().find(dir / "rules.json" + ":1:19: syntax error") != std::string::npos);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    REQUIRE(daemon.running());

    write_file(dir / "rules.json", kRulesTwoAccounts);
    daemon.signal(SIGHUP);
    REQUIRE(daemon.wait_for_log("rules loaded: 1 people, 2 accounts, 0 contacts"));
    REQUIRE(daemon.running());

    daemon.signal(SIGTERM);
    const int status = daemon.wait(std::chrono::seconds(10));
    REQUIRE(status != -1);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    CHECK(daemon.log().find("rapportd stopped") != std::string::npos);
}

TEST_CASE("rapportd refuses to start on broken rules and says how to check them", "[cli]") {
    TempDir dir;
    write_file(dir / "settings.json", settings_json(free_port()));
    write_file(dir / "rules.json", "[]");
    auto [status, out] = run({program("rapportd"), "--config", dir / "settings.json"});
    CHECK(status == 1);
    CHECK(out.find("$: expected an object, got an array") != std::string::npos);
    CHECK(out.find("rapportd --check-config") != std::string::npos);
}

TEST_CASE("a second rapportd on the same state_dir refuses to start and names the first", "[cli][state]") {
    TempDir dir;
    write_file(dir / "settings.json", settings_json(free_port()));
    write_file(dir / "rules.json", kRules);
    Child first({program("rapportd"), "--config", dir / "settings.json"}, dir / "first.log");
    REQUIRE(first.wait_for_log("rapportd running"));
    // Another API port, so only the state directory is shared.
    write_file(dir / "second.json", settings_json(free_port()));
    auto [status, out] = run({program("rapportd"), "--config", dir / "second.json"});
    CHECK(status == 1);
    CHECK(out.find("is in use by another rapportd (pid " + std::to_string(first.pid()) + ")") != std::string::npos);
    CHECK(out.find("stop it first") != std::string::npos);
    REQUIRE(first.running());
    first.signal(SIGTERM);
    REQUIRE(first.wait(std::chrono::seconds(10)) != -1);
    // Once the first has stopped, the lock is free again.
    Child again({program("rapportd"), "--config", dir / "second.json"}, dir / "again.log");
    CHECK(again.wait_for_log("rapportd running"));
}

TEST_CASE("a damaged state database stops rapportd at start with what to do", "[cli][state]") {
    TempDir dir;
    write_file(dir / "settings.json", settings_json(free_port()));
    write_file(dir / "rules.json", kRules);
    std::filesystem::create_directories(dir / "state");
    write_file(dir / "state/state.sqlite", std::string(16384, '\x7f'));
    auto [status, out] = run({program("rapportd"), "--config", dir / "settings.json"});
    CHECK(status == 1);
    CHECK(out.find(dir / "state/state.sqlite") != std::string::npos);
    CHECK(out.find("is damaged") != std::string::npos);
    CHECK(out.find("restore the file from a backup, or move it away") != std::string::npos);
}
