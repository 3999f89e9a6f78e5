// `rapportd init` against a real Dovecot whose Sent and Drafts folders have other names
// ("Sent Items" \Sent, "Brouillons" \Drafts): the file it writes is accepted by --check-config
// and names those folders; a second run refuses to overwrite; a wrong password and a closed
// port fail with one line and write nothing.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "dovecot_fixture.hpp"

using namespace rapport::test;
using nlohmann::json;

namespace {

const char* kRules = R"({
  "organization": {"name": "Vendor Inc", "domains": ["vendor.example"]},
  "people": [{"id": "mia", "name": "Mia Marketing", "addresses": ["mia@vendor.example"]}],
  "accounts": [{"id": "acme", "name": "Acme Corp", "domains": ["acme.example"], "owner": "mia"}]
})";

DovecotFixture::Options special_use_server() {
    DovecotFixture::Options o;
    o.folders = {"Sent Items", "Brouillons"};
    o.special_use = {{"Sent Items", "\\Sent"}, {"Brouillons", "\\Drafts"}};
    return o;
}

// rapportd init with the password on stdin and XDG_CONFIG_HOME set to `config_home`.
std::pair<int, std::string> init(const std::vector<std::string>& args, const std::string& password,
                                 const std::string& config_home) {
    // $0 is rapportd, $1 the password, $2 XDG_CONFIG_HOME, the rest init's arguments.
    std::vector<std::string> argv = {
        "/bin/sh", "-c",
        "p=$1; h=$2; shift 2; printf '%s\\n' \"$p\" | XDG_CONFIG_HOME=\"$h\" \"$0\" init --password-stdin \"$@\"",
        program("rapportd"), password, config_home};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv);
}

std::size_t lines(const std::string& s) { return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n')); }

}  // namespace

TEST_CASE("rapportd init writes a settings file that --check-config accepts, and never overwrites it", "[cli][init]") {
    DovecotFixture dovecot(special_use_server());
    TempDir dir;
    write_file(dir / "rules.json", kRules);
    const std::string file = dir / "conf/settings.json";
    const std::vector<std::string> args = {"--address", "Mia@Vendor.example", "--name", "Mia Marketing", "--imap-host",
                                           "127.0.0.1", "--imap-port", std::to_string(dovecot.port()), "--security",
                                           "none", "--username", dovecot.user(), "--rules", dir / "rules.json",
                                           "--config", file};
    auto [status, out] = init(args, dovecot.password(), dir / "xdg");
    INFO(out);
    REQUIRE(status == 0);
    CHECK(out.find("Sent folder:   \"Sent Items\" (special-use)") != std::string::npos);
    CHECK(out.find("Drafts folder: \"Brouillons\" (special-use)") != std::string::npos);
    CHECK(out.find("systemctl --user enable --now rapportd") != std::string::npos);
    struct stat st {};
    REQUIRE(::stat(file.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    const json written = json::parse(read_file(file));
    CHECK(written["user"]["address"] == "mia@vendor.example");
    CHECK(written["mailboxes"][0]["folders"]["sent"] == "Sent Items");
    CHECK(written["mailboxes"][0]["folders"]["drafts"] == "Brouillons");
    CHECK(written["mailboxes"][0]["imap"]["password"] == dovecot.password());

    auto [check_status, check_out] = run({program("rapportd"), "--check-config", file});
    INFO(check_out);
    CHECK(check_status == 0);

    // Twice: refused, one line, the file as it was.
    const std::string before = read_file(file);
    auto [again, again_out] = init(args, "other", dir / "xdg");
    INFO(again_out);
    CHECK(again == 1);
    CHECK(lines(again_out) == 1);
    CHECK(again_out.find("already exists; not overwriting it") != std::string::npos);
    CHECK(read_file(file) == before);
}

TEST_CASE("rapportd init: the default place, and a rules file that is not there yet", "[cli][init]") {
    DovecotFixture dovecot(special_use_server());
    TempDir dir;
    auto [status, out] = init({"--address", "mia@vendor.example", "--imap-host", "127.0.0.1", "--imap-port",
                               std::to_string(dovecot.port()), "--security", "none", "--username", dovecot.user(),
                               "--password-command", "/bin/echo " + dovecot.password()},
                              "", dir / "xdg");
    INFO(out);
    // --password-stdin and --password-command together are refused; run again without stdin.
    CHECK(status == 2);
    auto [status2, out2] = run({"/bin/sh", "-c", "h=$1; shift; XDG_CONFIG_HOME=\"$h\" exec \"$0\" init \"$@\" </dev/null",
                                program("rapportd"), dir / "xdg", "--address", "mia@vendor.example", "--imap-host",
                                "127.0.0.1", "--imap-port", std::to_string(dovecot.port()), "--security", "none",
                                "--username", dovecot.user(), "--password-command", "/bin/echo " + dovecot.password()});
    INFO(out2);
    REQUIRE(status2 == 0);
    const std::string file = dir / "xdg/rapport/settings.json";
    const json written = json::parse(read_file(file));
    CHECK(written["mailboxes"][0]["imap"]["password_command"] == json({"/bin/echo", dovecot.password()}));
    CHECK_FALSE(written["mailboxes"][0]["imap"].contains("password"));
    CHECK(out2.find("Put the rules file from your admin at " + dir / "xdg/rapport/rules.json") != std::string::npos);
    // Once the rules are there, the check passes.
    write_file(dir / "xdg/rapport/rules.json", kRules);
    auto [check_status, check_out] = run({program("rapportd"), "--check-config", file});
    INFO(check_out);
    CHECK(check_status == 0);
}

TEST_CASE("rapportd init: a wrong password and a closed port fail with one line and write nothing", "[cli][init]") {
    DovecotFixture dovecot(special_use_server());
    TempDir dir;
    const std::string file = dir / "settings.json";
    auto args = [&](int port) {
        return std::vector<std::string>{"--address", "mia@vendor.example", "--imap-host", "127.0.0.1", "--imap-port",
                                        std::to_string(port), "--security", "none", "--username", dovecot.user(),
                                        "--config", file};
    };
    {
        auto [status, out] = init(args(dovecot.port()), "wrong-password", dir / "xdg");
        INFO(out);
        CHECK(status == 1);
        CHECK(lines(out) == 1);
        CHECK(out.find("refused the login for \"" + dovecot.user() + "\"") != std::string::npos);
        CHECK_FALSE(std::filesystem::exists(file));
    }
    {
        const int closed = free_port();
        auto [status, out] = init(args(closed), dovecot.password(), dir / "xdg");
        INFO(out);
        CHECK(status == 1);
        CHECK(lines(out) == 1);
        CHECK(out.find("cannot reach the IMAP server 127.0.0.1:" + std::to_string(closed)) != std::string::npos);
        CHECK_FALSE(std::filesystem::exists(file));
    }
}
